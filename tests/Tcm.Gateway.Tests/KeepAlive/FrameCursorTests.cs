using Tcm.Gateway.KeepAlive;
using static Tcm.Gateway.Tests.KeepAlive.WebSocketFrames;

namespace Tcm.Gateway.Tests.KeepAlive;

public sealed class FrameCursorTests
{
    [Theory]
    [InlineData(10)]
    [InlineData(300)]
    [InlineData(70_000)]
    public void AFrame_WrittenInAnyPieces_EndsAtItsLastByte(int payloadLength)
    {
        var frame = FromServer(0x2, new byte[payloadLength]);
        foreach (var piece in new[] { 1, 2, 3, 7, 4096 })
        {
            var cursor = new FrameCursor();
            for (var i = 0; i < frame.Length; i += piece)
            {
                cursor.AtFrameBoundary.Should().Be(i == 0, "inside the frame at byte {0} (pieces of {1})", i, piece);
                cursor.Advance(frame.AsSpan(i, Math.Min(piece, frame.Length - i)));
            }

            cursor.AtFrameBoundary.Should().BeTrue("pieces of {0}", piece);
        }
    }

    [Fact]
    public void SeveralFramesInOneWrite_AndAHeaderSplitAcrossTwo_AreFollowed()
    {
        var cursor = new FrameCursor();
        var next = FromServer(0x1, new byte[200]);
        cursor.Advance([.. FromServer(0x1, [1, 2]), .. Pong(), .. next[..1]]);
        cursor.AtFrameBoundary.Should().BeFalse("one byte of the next header came");

        cursor.Advance(next[1..]);
        cursor.AtFrameBoundary.Should().BeTrue();
        cursor.Closed.Should().BeFalse();
    }

    [Fact]
    public void ACloseFrame_IsRemembered()
    {
        var cursor = new FrameCursor();
        cursor.Advance(FromServer(0x8, [0x03, 0xE8]));

        cursor.AtFrameBoundary.Should().BeTrue();
        cursor.Closed.Should().BeTrue();
    }

    [Fact]
    public void ALengthWithItsTopBitSet_LosesTheDirectionForGood()
    {
        var cursor = new FrameCursor();
        cursor.Advance([0x82, 0x7F, 0x80, 0, 0, 0, 0, 0, 0, 1]);

        cursor.Lost.Should().BeTrue();
        cursor.Advance(FromServer(0x1, [1]));
        cursor.AtFrameBoundary.Should().BeFalse();
    }
}
