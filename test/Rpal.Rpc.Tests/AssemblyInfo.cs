using Xunit;

// One test at a time: the servers and this process spin while they wait, tests kill and restart
// servers, and one asserts a 100 ms bound; on a 2-core machine tests running at once would
// starve each other.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
