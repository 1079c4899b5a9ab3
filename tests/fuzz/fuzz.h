/* fuzz.h - the libFuzzer entry point every harness defines. Built two
 * ways: with clang -fsanitize=fuzzer (make fuzz) and with gcc against
 * fuzz_replay.c's main() (make check), which replays the corpus. A
 * harness returns 0 and aborts on a broken invariant. */
#ifndef AVIARY_FUZZ_H
#define AVIARY_FUZZ_H

#include <stddef.h>
#include <stdint.h>

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#endif
