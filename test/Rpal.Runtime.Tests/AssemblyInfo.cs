using Xunit;

// The engine spins while it waits; on a 2-core machine tests that spin at once starve each
// other, and every test here shares the one engine of this process. One test at a time.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
