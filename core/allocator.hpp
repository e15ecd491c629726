// Allocator settings for long runs. The trainer and the simulator allocate the same activation buffers
// (megabytes each) every step; glibc's defaults hand such blocks back to the kernel when they are freed
// (munmap, heap trimming) and fault them in, zeroed, on the next step. Measured on the 4-block, width-256
// training scenario (two runs on two cores): 60 % of the time in the kernel and about 100 tokens/s per run;
// with freed memory kept, 0 % and about 640 tokens/s. keep_freed_memory() keeps it (no effect off glibc).
#pragma once

namespace wtasim {

void keep_freed_memory();

}  // namespace wtasim
