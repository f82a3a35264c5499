namespace Tcm.Protocol.Tests;

public sealed class CountingStreamTests
{
    [Fact]
    public async Task ReadsAndWrites_AreCountedApart()
    {
        var inner = new MemoryStream();
        int read = 0, written = 0;
        var stream = new CountingStream(inner, n => read += n, n => written += n, ownsInner: true);

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
        var stream = new CountingStream(inner, n => read += n, null, ownsInner: true);

        (await stream.ReadAsync(Memory<byte>.Empty)).Should().Be(0);

        read.Should().Be(0);
        inner.Position.Should().Be(0, "the zero-byte read waits for data without consuming it");
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Disposing_DisposesTheInnerStream_OnlyWhenItOwnsIt(bool ownsInner)
    {
        var inner = new MemoryStream();

        new CountingStream(inner, null, null, ownsInner).Dispose();

        inner.CanWrite.Should().Be(!ownsInner);
    }
}
