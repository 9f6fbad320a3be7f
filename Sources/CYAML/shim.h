// CYAML: libyaml's event parser for MSSClampConfig's policy files, and nothing else.
//
// libyaml directly rather than through Yams: Yams brings Foundation (and its ICU data) into
// every process that reads a policy, the worker included, for ~10 MB of resident memory.
#ifndef CYAML_SHIM_H
#define CYAML_SHIM_H
#include <yaml.h>
#endif
