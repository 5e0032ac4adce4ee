using Xunit;

// The C test programs spin on shared memory; on a 2-core machine two of them at once starve
// each other. Run every test in this assembly one at a time.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
