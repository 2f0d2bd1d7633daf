// How deskport's Node processes are started (bin/deskport.js; bench/extract-export.ts measures with it).
//
// Memory: glibc raises its mmap threshold after the first large buffer is freed, and from then on
// keeps freed Kafka batches and file chunks in its heap instead of returning them to the system;
// fixing the threshold at 128 KiB returns them. Young-generation semi-spaces of 8 MB instead of
// 16 MB. Together they hold the extractor under 300 MB of RSS on a 1 GB export at the same speed.
// An operator's own MALLOC_MMAP_THRESHOLD_ or NODE_OPTIONS still applies.
export const NODE_FLAGS = ['--max-semi-space-size=8'];
export const NODE_ENV = { MALLOC_MMAP_THRESHOLD_: '131072' };
