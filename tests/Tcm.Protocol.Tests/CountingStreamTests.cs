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

    [Fact]
    public async Task ReadsThatWaitForData_AreCountedWhenTheDataArrives_AndAZeroByteWaitCountsNothing()
    {
        var pipe = new System.IO.Pipelines.Pipe();
        var read = 0;
        var stream = new CountingStream(pipe.Reader.AsStream(), n => read += n, null, ownsInner: true);

        var waiting = stream.ReadAsync(Memory<byte>.Empty).AsTask();
        waiting.IsCompleted.Should().BeFalse("nothing has arrived yet");
        await pipe.Writer.WriteAsync(new byte[3]);
        (await waiting.WaitAsync(TimeSpan.FromSeconds(10))).Should().Be(0);
        read.Should().Be(0, "the wait consumed nothing");
        (await stream.ReadAsync(new byte[16])).Should().Be(3);

        var reading = stream.ReadAsync(new byte[16]).AsTask();
        reading.IsCompleted.Should().BeFalse("nothing more has arrived");
        await pipe.Writer.WriteAsync(new byte[4]);

        (await reading.WaitAsync(TimeSpan.FromSeconds(10))).Should().Be(4);
        read.Should().Be(7);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(16)]
    public async Task AReadOfAStreamThatFailsAtOnce_FailsTheReturnedTask_InsteadOfThrowing(int size)
    {
        var inner = new MemoryStream();
        inner.Dispose();
        var stream = new CountingStream(inner, null, null, ownsInner: true);

        var read = stream.ReadAsync(new byte[size]).AsTask();

        await FluentActions.Awaiting(() => read).Should().ThrowAsync<ObjectDisposedException>();
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
