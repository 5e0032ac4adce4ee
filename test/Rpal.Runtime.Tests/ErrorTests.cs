using Xunit;

namespace Rpal.Runtime.Tests;

/// <summary>Failing engine calls surface as <see cref="RpalException"/> with the engine's errno.</summary>
public sealed class ErrorTests
{
    public ErrorTests() => TestEngine.EnsureStarted();

    [Fact]
    public void Connect_ToAServiceNobodyServes_ThrowsENOENT()
    {
        RpalException e = Assert.Throws<RpalException>(() => RpalConnection.Connect(TestEngine.UniqueServiceName("missing")));
        Assert.Equal(RpalErrno.ENOENT, e.Errno);
        Assert.IsAssignableFrom<IOException>(e);
        Assert.Contains("No such file or directory", e.Message, StringComparison.Ordinal);
        Assert.Contains("(ENOENT)", e.Message, StringComparison.Ordinal);
        Assert.StartsWith("rpal_request_service", e.Operation, StringComparison.Ordinal);
    }

    [Fact]
    public void Register_ANameThisProcessServes_ThrowsEADDRINUSE()
    {
        string name = TestEngine.UniqueServiceName("twice");
        using RpalServiceListener listener = RpalServiceListener.Register(name);
        Assert.NotEqual(0UL, listener.Key);
        Assert.Equal(name, listener.Name);

        RpalException e = Assert.Throws<RpalException>(() => RpalServiceListener.Register(name));
        Assert.Equal(RpalErrno.EADDRINUSE, e.Errno);
    }

    [Theory]
    [InlineData("", RpalErrno.EINVAL)]
    [InlineData("has/slash", RpalErrno.EINVAL)]
    [InlineData(".hidden", RpalErrno.EINVAL)]
    [InlineData("a-name-that-is-longer-than-sixty-four-bytes-which-the-engine-refuses", RpalErrno.ENAMETOOLONG)]
    public void Register_ABadName_ThrowsTheEnginesErrno(string name, int errno)
    {
        RpalException e = Assert.Throws<RpalException>(() => RpalServiceListener.Register(name));
        Assert.Equal(errno, e.Errno);
    }

    [Fact]
    public void TryAccept_WithNoClientWaiting_ReturnsFalse()
    {
        using RpalServiceListener listener = RpalServiceListener.Register(TestEngine.UniqueServiceName("idle"));
        Assert.False(listener.TryAccept(out RpalConnection? connection));
        Assert.Null(connection);
    }

    [Fact]
    public void DisposedListener_ThrowsObjectDisposed_AndItsNameIsFreeAgain()
    {
        string name = TestEngine.UniqueServiceName("disposed");
        RpalServiceListener listener = RpalServiceListener.Register(name);
        listener.Dispose();
        listener.Dispose();

        Assert.True(listener.IsDisposed);
        Assert.Throws<ObjectDisposedException>(() => listener.Fd);
        Assert.Throws<ObjectDisposedException>(() => listener.TryAccept(out _));
        Assert.Equal(RpalErrno.ENOENT, Assert.Throws<RpalException>(() => RpalConnection.Connect(name)).Errno);

        using RpalServiceListener again = RpalServiceListener.Register(name);
    }

    [Fact]
    public void Free_OfAnAddressThatIsNoAllocation_ThrowsEINVAL()
    {
        Assert.Equal(RpalErrno.EINVAL, Assert.Throws<RpalException>(() => RpalEngine.Free(0)).Errno);
        Assert.Equal(RpalErrno.EINVAL, Assert.Throws<RpalException>(() => RpalEngine.Free(0x1234)).Errno);
        Assert.Equal(RpalErrno.EINVAL, Assert.Throws<RpalException>(() => RpalEngine.Alloc(0)).Errno);
    }

    [Fact]
    public void Epoll_ControlErrors_AreRpalExceptions()
    {
        using RpalEpoll epoll = RpalEpoll.Create();
        Assert.True(epoll.Fd >= 0);
        RpalException e = Assert.Throws<RpalException>(() => epoll.Remove(12345));
        Assert.Equal(RpalErrno.EBADF, e.Errno);

        Span<RpalEpollEvent> events = stackalloc RpalEpollEvent[4];
        Assert.Equal(0, epoll.Wait(events, 0));
        Assert.Equal(-RpalErrno.EINVAL, epoll.Wait([], 0));

        epoll.Dispose();
        Assert.Equal(-RpalErrno.EBADF, epoll.Wait(new RpalEpollEvent[1], 0));
        Assert.Throws<ObjectDisposedException>(() => epoll.Fd);
    }

    [Fact]
    public void ErrnoNames_AndMessages_ComeFromTheSystem()
    {
        Assert.Equal("ECONNRESET", RpalErrno.GetName(-RpalErrno.ECONNRESET));
        Assert.Equal("errno 9999", RpalErrno.GetName(9999));
        Assert.Equal("Connection reset by peer", RpalErrno.GetMessage(RpalErrno.ECONNRESET));
        var e = new RpalException(-RpalErrno.ETIMEDOUT, "rpal_call");
        Assert.Equal(RpalErrno.ETIMEDOUT, e.Errno);
        Assert.Equal("rpal_call: Connection timed out (ETIMEDOUT)", e.Message);
    }
}
