using Tcm.Gateway.Relay;

namespace Tcm.Gateway.Tests;

public sealed class CountingStreamTests
{
    [Fact]
    public async Task ReadsAndWrites_AreCountedApart()
    {
        var inner = new MemoryStream();
        int read = 0, written = 0;
        var stream = new CountingStream(inner, n => read += n, n => written += n);

        await stream.WriteAsync(new byte[5]);
        inner.Position = 0;
        var got = await stream.ReadAsync(new byte[16]);

        (got, read, written).Should().Be((5, 5, 5));
    }

    [Fact]
    public async Task AZeroByteRead_PassesThrough_AndCountsNothing()
    {
        var inner = new MemoryStream(new byte[3]);
        var read = 0;
        var stream = new CountingStream(inner, n => read += n, null);

        (await stream.ReadAsync(Memory<byte>.Empty)).Should().Be(0);

        read.Should().Be(0);
        inner.Position.Should().Be(0, "the zero-byte read waits for data without consuming it");
    }

    [Fact]
    public void Disposing_LeavesTheInnerStreamToItsOwner()
    {
        var inner = new MemoryStream();

        new CountingStream(inner, null, null).Dispose();

        inner.CanWrite.Should().BeTrue();
    }
}
