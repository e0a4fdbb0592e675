#!/bin/sh
# tools/deps.sh build|all STB_INCLUDE -- check for what tpe needs beyond a C
# compiler and make; install it with apt-get when run as root, otherwise
# print the exact apt-get line and fail.
#   build: libstb-dev (the stb_ds header), needed to compile.
#   all:   also what the optional targets use (clang, cross compilers, qemu).
set -u
what=${1:-build}
stb=${2:-/usr/include/stb}
missing=""
[ -f "$stb/stb_ds.h" ] || missing="libstb-dev"
if [ "$what" = all ]; then
  command -v clang >/dev/null 2>&1 || missing="$missing clang"
  command -v aarch64-linux-gnu-gcc >/dev/null 2>&1 || missing="$missing gcc-aarch64-linux-gnu libc6-dev-arm64-cross"
  command -v qemu-aarch64 >/dev/null 2>&1 || missing="$missing qemu-user"
fi
[ -z "$missing" ] && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "tpe: installing$missing" >&2
  (apt-get install -y -qq $missing >/dev/null 2>&1 || { apt-get update -qq >/dev/null 2>&1 && apt-get install -y -qq $missing >/dev/null; }) || {
    echo "tpe: apt-get install$missing failed" >&2; exit 1; }
  [ -f "$stb/stb_ds.h" ] || { echo "tpe: stb_ds.h still not found in $stb (set STB_INCLUDE=)" >&2; exit 1; }
  exit 0
fi
echo "tpe: missing packages; run:" >&2
echo "  sudo apt-get install$missing" >&2
echo "(or point STB_INCLUDE= at a directory holding stb_ds.h)" >&2
exit 1
