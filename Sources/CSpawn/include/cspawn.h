#ifndef CSPAWN_H
#define CSPAWN_H
#include <sys/types.h>
#endif
