using Tcm.Gateway.Relay;

namespace Tcm.Gateway.Tests;

public sealed class StreamCopierTests
{
    [Fact]
    public async Task CopiesEverything_CountsIt_AndTouchesTheTunnel()
    {
        var data = Enumerable.Range(0, 100_000).Select(i => (byte)i).ToArray();
        var output = new MemoryStream();
        long counted = 0;
        var clock = new FakeTimeProvider(DateTimeOffset.UnixEpoch);
        using var cancel = new CancellationTokenSource();
        var tunnel = new TunnelActivity(1, "ns1", cancel, clock);
        clock.Advance(TimeSpan.FromMinutes(1));

        var result = await StreamCopier.CopyAsync(new MemoryStream(data), output, n => counted += n, tunnel, CancellationToken.None);

        result.Should().Be(StreamCopyResult.Completed);
        output.ToArray().Should().Equal(data);
        counted.Should().Be(data.Length);
        tunnel.LastActivity.Should().Be(clock.GetTimestamp());
    }

    [Fact]
    public async Task AFailingOutput_IsReportedNotThrown()
    {
        var result = await StreamCopier.CopyAsync(new MemoryStream([1, 2, 3]), new FailingStream(), _ => { }, null, CancellationToken.None);
        result.Should().Be(StreamCopyResult.OutputError);
    }

    [Fact]
    public async Task ACanceledCopy_SaysSo()
    {
        using var cancel = new CancellationTokenSource();
        await cancel.CancelAsync();
        var result = await StreamCopier.CopyAsync(new MemoryStream([1]), new MemoryStream(), _ => { }, null, cancel.Token);
        result.Should().Be(StreamCopyResult.Canceled);
    }

    private sealed class FailingStream : MemoryStream
    {
        public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default) => throw new IOException("broken pipe");
    }
}
