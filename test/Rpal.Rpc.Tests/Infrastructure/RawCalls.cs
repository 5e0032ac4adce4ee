using System.Diagnostics;
using Rpal.Runtime;
using Xunit;

namespace Rpal.Rpc.Tests.Infrastructure;

/// <summary>Helpers of tests that speak to a server through the engine directly (hand-made messages).</summary>
internal static class RawCalls
{
    /// <summary>Polls for a submitted call's completion (the engine finds replies when asked), bounded.</summary>
    public static RpalCompletion WaitForCompletion(RpalConnection raw)
    {
        long end = Stopwatch.GetTimestamp() + (long)(ServerProcess.EventTimeout.TotalSeconds * Stopwatch.Frequency);
        var spin = default(SpinWait);
        while (Stopwatch.GetTimestamp() < end)
        {
            int rc = raw.Complete(out RpalCompletion completion);
            if (rc == 0)
            {
                return completion;
            }

            Assert.Equal(-RpalErrno.EAGAIN, rc);
            spin.SpinOnce();
        }

        throw new TimeoutException("the server did not answer the call");
    }
}
