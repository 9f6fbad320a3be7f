// CFuzzer: libFuzzer's driver entry, for fuzz targets that keep a main of their own (so they
// also build, and replay inputs, without the fuzzer). Linked only with -sanitize=fuzzer.
#ifndef CFUZZER_SHIM_H
#define CFUZZER_SHIM_H
#include <stddef.h>
#include <stdint.h>
int LLVMFuzzerRunDriver(int *argc, char ***argv, int (*callback)(const uint8_t *data, size_t size));
#endif
