using System.Net;
using Tcm.Channels.Framing;

namespace Tcm.Agent.Tests.Connection;

/// <summary>
/// The channel's upgrade request carries the keep-alive announcement (<see cref="ProtocolConstants.KeepAliveHeader"/>), put on by
/// <see cref="UpgradeCapture"/> rather than by the WebSocket's options. In memory: the handler under it answers 400 (no upgrade).
/// </summary>
public sealed class UpgradeCaptureTests
{
    [Fact]
    public async Task TheUpgradeRequest_AnnouncesTheInterval_Once_AndARefusalIsPassedBack()
    {
        using var refusing = new HttpMessageInvoker(new Refusing());
        using var capture = new UpgradeCapture(refusing, new ChannelKeepAlive(TimeSpan.FromSeconds(60), TimeSpan.FromSeconds(20)),
            _ => throw new InvalidOperationException("a refused upgrade gives no stream"));
        using var invoker = new HttpMessageInvoker(capture);
        using var request = new System.Net.Http.HttpRequestMessage(HttpMethod.Get, "https://ns.corp.example:4443/tcm/channel");

        using (var refused = await invoker.SendAsync(request, CancellationToken.None))
        {
            refused.StatusCode.Should().Be(HttpStatusCode.BadRequest);
        }

        using (await invoker.SendAsync(request, CancellationToken.None))
        {
        }

        request.Headers.GetValues(ProtocolConstants.KeepAliveHeader).Should().Equal(["60"], "announced once, also when the request is sent again");
        capture.Stream.Should().BeNull();
    }

    [Fact]
    public async Task AnIntervalUnderASecond_IsNotAnnounced()
    {
        using var refusing = new HttpMessageInvoker(new Refusing());
        using var capture = new UpgradeCapture(refusing, new ChannelKeepAlive(TimeSpan.Zero, TimeSpan.FromSeconds(20)),
            _ => throw new InvalidOperationException("a refused upgrade gives no stream"));
        using var invoker = new HttpMessageInvoker(capture);
        using var request = new System.Net.Http.HttpRequestMessage(HttpMethod.Get, "https://ns.corp.example:4443/tcm/channel");

        using (await invoker.SendAsync(request, CancellationToken.None))
        {
        }

        request.Headers.Contains(ProtocolConstants.KeepAliveHeader).Should().BeFalse();
    }

    private sealed class Refusing : HttpMessageHandler
    {
        protected override Task<System.Net.Http.HttpResponseMessage> SendAsync(System.Net.Http.HttpRequestMessage request, CancellationToken cancellationToken) =>
            Task.FromResult(new System.Net.Http.HttpResponseMessage(HttpStatusCode.BadRequest) { RequestMessage = request });
    }
}
