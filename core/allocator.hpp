// Allocator settings for long runs. The trainer and the simulator allocate the same activation buffers
// (megabytes each) every step; glibc's defaults hand such blocks back to the kernel when they are freed
// (munmap, heap trimming) and fault them in, zeroed, on the next step. Measured on the 4-block, width-256
// training scenario (two runs on two cores): 60 % of the time in the kernel and about 100 tokens/s per run;
// with freed memory kept, 0 % and about 640 tokens/s. keep_freed_memory() keeps it (no effect off glibc).
#pragma once

#include <cstddef>

namespace wtasim {

void keep_freed_memory();

// This thread's scratch buffer number `slot`, at least n floats, kept from call to call (grown, never
// shrunk or cleared: every user writes the part it reads). For values that pass from one layer to the next
// within a forward or a backward, so that a training step allocates and zeroes nothing once warm. Slots:
// 0-15 the spiking block, 16-23 a spiking linear's backward.
float* thread_scratch(std::size_t slot, std::size_t n);

}  // namespace wtasim
