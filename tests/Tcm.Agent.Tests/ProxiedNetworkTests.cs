using System.Net;
using System.Net.Sockets;
using System.Text;
using Microsoft.Extensions.Logging.Abstractions;
using Tcm.Agent.Network;

namespace Tcm.Agent.Tests;

/// <summary>
/// The agent's way through a proxy, in memory: which connections go through it, the CONNECT it sends, what it makes of the proxy's
/// answer, and when it tries directly after a failure (and what the Network Status is told).
/// </summary>
public sealed class ProxiedNetworkTests
{
    private static readonly DnsEndPoint Server = new("ns.corp.example", 4443);

    [Fact]
    public async Task WithoutProxySettings_ConnectsDirectly()
    {
        var inner = new ScriptedNetwork();
        var network = Network(inner, null);

        await using var _ = await network.ConnectAsync(Server, TrafficPurpose.Management, CancellationToken.None);

        inner.Dialled.Should().Equal([Server]);
        network.UseFor("ns.corp.example:4443").Should().Be(default(ProxyUse));
    }

    [Fact]
    public async Task ExplicitProxy_SendsConnectWithBasicCredentials_AndLeavesWhatFollowsTheAnswerToTls()
    {
        var inner = new ScriptedNetwork { Answer = "HTTP/1.1 200 Connection established\r\nProxy-agent: test\r\n\r\nTLS" };
        var network = Network(inner, Explicit(user: "agent", password: "pw"));

        await using var tunnel = await network.ConnectAsync(Server, TrafficPurpose.Management, CancellationToken.None);

        inner.Dialled.Should().Equal([new DnsEndPoint("proxy.corp.example", 3128)]);
        var basic = Convert.ToBase64String(Encoding.UTF8.GetBytes("agent:pw"));
        inner.Written.Should().Be($"CONNECT ns.corp.example:4443 HTTP/1.1\r\nHost: ns.corp.example:4443\r\nProxy-Authorization: Basic {basic}\r\n\r\n");
        var rest = new byte[3];
        await tunnel.ReadExactlyAsync(rest);
        Encoding.ASCII.GetString(rest).Should().Be("TLS");
        network.UseFor("ns.corp.example:4443").Should().Be(new ProxyUse("proxy.corp.example:3128", null));
    }

    [Theory]
    [InlineData("HTTP/1.1 407 Proxy Authentication Required", "proxy proxy.corp.example:3128 refused the credentials of 'agent' (407 Proxy Authentication Required)")]
    [InlineData("HTTP/1.0 401 Unauthorized", "proxy proxy.corp.example:3128 refused the credentials of 'agent' (401 Unauthorized)")]
    [InlineData("HTTP/1.1 403 Access violation", "proxy proxy.corp.example:3128 refused CONNECT ns.corp.example:4443 (403 Access violation)")]
    [InlineData("SSH-2.0-OpenSSH", "proxy proxy.corp.example:3128 closed the connection before answering CONNECT")]
    public async Task ProxyRefusal_WithoutDirectAttempts_FailsWithTheReason_AndTheNetworkStatusKeepsIt(string answer, string reason)
    {
        var inner = new ScriptedNetwork { Answer = answer + (answer.StartsWith("HTTP", StringComparison.Ordinal) ? "\r\n\r\n" : "") };
        var network = Network(inner, Explicit(user: "agent", password: "wrong"));

        var connect = async () => await network.ConnectAsync(Server, TrafficPurpose.Management, CancellationToken.None);

        (await connect.Should().ThrowAsync<ProxyFailedException>()).Which.Message.Should().Be(reason);
        inner.Dialled.Should().HaveCount(1, "no direct attempt without the profile's leave");
        network.UseFor("ns.corp.example:4443").Should().Be(new ProxyUse(null, reason));
    }

    [Fact]
    public async Task ProxyUnreachable_WithDirectAttempts_ConnectsDirectly_AndSaysWhy()
    {
        var inner = new ScriptedNetwork { Refuse = new DnsEndPoint("proxy.corp.example", 3128) };
        var network = Network(inner, Explicit() with { AllowDirect = true });

        await using var _ = await network.ConnectAsync(Server, TrafficPurpose.Management, CancellationToken.None);

        inner.Dialled.Should().Equal([new DnsEndPoint("proxy.corp.example", 3128), Server]);
        network.UseFor("ns.corp.example:4443").Should().Be(new ProxyUse(null, "proxy proxy.corp.example:3128 not reachable: connection refused"));
    }

    [Fact]
    public async Task AProxyChangedToNone_ShowsNothingAnyMore()
    {
        ProxySettings? settings = Explicit();
        var inner = new ScriptedNetwork { Answer = "HTTP/1.1 200 OK\r\n\r\n" };
        var network = new ProxiedNetwork(inner, () => settings, null, NullLogger.Instance);
        await using (await network.ConnectAsync(Server, TrafficPurpose.Management, CancellationToken.None))
        {
        }

        settings = null;

        network.UseFor("ns.corp.example:4443").Should().Be(default(ProxyUse));
    }

    [Theory]
    [InlineData("ns.corp.example", 4443, true)]
    [InlineData("NS.CORP.EXAMPLE", 4443, true)]
    [InlineData("pkg.corp.example", 443, true)]
    [InlineData("gw.public.example", 443, false)]
    [InlineData("fileserver", 445, true)]
    [InlineData("ts1.other.example", 4726, true)]
    [InlineData("ts1.other.example", 4727, false)]
    public void BypassList_WildcardsHostPortAndLocal(string host, int port, bool bypassed) =>
        ProxiedNetwork.Bypassed(["*.corp.example", "<local>", "ts1.other.example:4726"], host, port).Should().Be(bypassed);

    [Fact]
    public void SystemMode_UsesTheMachinesProxy_UnlessItBypassesTheServer()
    {
        var system = new WebProxy("http://system-proxy.example:8080") { BypassList = [@"pkg\.corp\.example"] };
        var network = Network(new ScriptedNetwork(), new ProxySettings { Mode = ProxyMode.System }, system);

        network.Resolve(new ProxySettings { Mode = ProxyMode.System }, Server)!.HostAndPort.Should().Be("system-proxy.example:8080");
        network.Resolve(new ProxySettings { Mode = ProxyMode.System }, new DnsEndPoint("pkg.corp.example", 443)).Should().BeNull();
    }

    [Theory]
    [InlineData("http://proxy.example:3128", true)]
    [InlineData("http://proxy.example:3128/", true)]
    [InlineData("http://proxy.example", false)]
    [InlineData("https://proxy.example:3128", false)]
    [InlineData("http://user:pw@proxy.example:3128", false)]
    [InlineData("proxy.example:3128", false)]
    public void ProxyAddress_IsHttpHostAndPort(string address, bool valid) =>
        ProxySettings.TryParseAddress(address, out _, out _, out _).Should().Be(valid);

    [Fact]
    public void Equality_ComparesTheBypassListEntryByEntry() =>
        (Explicit() with { Bypass = ["a", "b"] }).Should().Be(Explicit() with { Bypass = new List<string> { "a", "b" } });

    private static ProxySettings Explicit(string? user = null, string? password = null) =>
        new() { Mode = ProxyMode.Explicit, Address = "http://proxy.corp.example:3128", UserName = user, Password = password };

    private static ProxiedNetwork Network(INetwork inner, ProxySettings? settings, IWebProxy? system = null) =>
        new(inner, () => settings, system, NullLogger.Instance);

    /// <summary>Records what is dialled; a connection reads <see cref="Answer"/> and records what is written; <see cref="Refuse"/> is refused.</summary>
    internal sealed class ScriptedNetwork : INetwork
    {
        private readonly MemoryStream _written = new();

        public string Answer { get; init; } = "";

        public DnsEndPoint? Refuse { get; set; }

        public List<DnsEndPoint> Dialled { get; } = [];

        public string Written => Encoding.ASCII.GetString(_written.ToArray());

        public event EventHandler? AdaptersChanged { add { } remove { } }

        public IReadOnlyList<NetworkAdapter> GetAdapters() => [];

        public ValueTask<Stream> ConnectAsync(DnsEndPoint endpoint, TrafficPurpose purpose, CancellationToken cancellationToken)
        {
            Dialled.Add(endpoint);
            return endpoint.Equals(Refuse)
                ? ValueTask.FromException<Stream>(new SocketException((int)SocketError.ConnectionRefused))
                : ValueTask.FromResult<Stream>(new ScriptedStream(Encoding.ASCII.GetBytes(Answer), _written));
        }
    }

    /// <summary>Reads a fixed answer and writes into a shared record: one side of a connection.</summary>
    private sealed class ScriptedStream(byte[] answer, MemoryStream written) : Stream
    {
        private readonly MemoryStream _answer = new(answer);

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => true;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override void Flush()
        {
        }

        public override int Read(byte[] buffer, int offset, int count) => _answer.Read(buffer, offset, count);

        public override void Write(byte[] buffer, int offset, int count) => written.Write(buffer, offset, count);

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();
    }
}
