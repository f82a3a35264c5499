namespace Tcm.NotificationServer.Tests.Infrastructure;

/// <summary>How the server ends a channel, as the tests check it.</summary>
internal static class ChannelClosing
{
    /// <summary>
    /// Waits for the server's close and checks its status (when <paramref name="status"/> is given) and that its description
    /// starts with <paramref name="reason"/> and a colon; returns what the server sent before the close.
    /// </summary>
    public static async Task<IReadOnlyList<Message>> ShouldBeClosedAsync(this TestChannel channel, WebSocketCloseStatus? status, string reason)
    {
        var (before, closeStatus, description) = await channel.WaitForCloseAsync();
        if (status is not null)
        {
            closeStatus.Should().Be(status);
        }

        description.Should().StartWith(reason + ":");
        return before;
    }
}
