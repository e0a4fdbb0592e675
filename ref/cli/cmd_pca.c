/* placeholder replaced below */
#include "cli.h"
int tpe_cmd_pca(int argc, char **argv) { (void)argc; (void)argv; return 2; }
