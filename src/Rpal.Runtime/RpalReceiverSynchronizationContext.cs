using System.Runtime.ExceptionServices;

namespace Rpal.Runtime;

/// <summary>
/// The <see cref="SynchronizationContext"/> of an <see cref="RpalReceiver"/>'s thread: work
/// posted to it runs on that thread, so an <c>await</c> in code running on the receiver
/// continues on the receiver (a handler that suspends is parked as a continuation in the
/// receiver's queue, and the receiver keeps serving meanwhile). Installed on the receiver's
/// thread as <see cref="SynchronizationContext.Current"/>.
/// </summary>
public sealed class RpalReceiverSynchronizationContext : SynchronizationContext
{
    internal RpalReceiverSynchronizationContext(RpalReceiver receiver) => Receiver = receiver;

    /// <summary>The receiver whose thread runs the work.</summary>
    public RpalReceiver Receiver { get; }

    /// <summary>Queues <paramref name="d"/> to run on the receiver's thread (on the thread pool once the receiver has stopped).</summary>
    public override void Post(SendOrPostCallback d, object? state)
    {
        ArgumentNullException.ThrowIfNull(d);
        Receiver.PostCore(d, state);
    }

    /// <summary>
    /// Runs <paramref name="d"/> on the receiver's thread and waits for it: at once when called
    /// on that thread, else queued; an exception it throws is rethrown here.
    /// </summary>
    public override void Send(SendOrPostCallback d, object? state)
    {
        ArgumentNullException.ThrowIfNull(d);
        if (Receiver.IsCurrentThread)
        {
            d(state);
            return;
        }

        using var operation = new SendOperation(d, state);
        Receiver.PostCore(SendOperation.s_run, operation);
        operation.Done.Wait();
        operation.Error?.Throw();
    }

    /// <summary>Returns this context: there is nothing per-copy to keep.</summary>
    public override SynchronizationContext CreateCopy() => this;

    private sealed class SendOperation(SendOrPostCallback callback, object? state) : IDisposable
    {
        internal static readonly Action<object?> s_run = static o => ((SendOperation)o!).Run();

        internal ManualResetEventSlim Done { get; } = new();

        internal ExceptionDispatchInfo? Error { get; private set; }

        public void Dispose() => Done.Dispose();

        private void Run()
        {
            try
            {
                callback(state);
            }
#pragma warning disable CA1031 // Rethrown on the sending thread.
            catch (Exception e)
#pragma warning restore CA1031
            {
                Error = ExceptionDispatchInfo.Capture(e);
            }
            finally
            {
                Done.Set();
            }
        }
    }
}
