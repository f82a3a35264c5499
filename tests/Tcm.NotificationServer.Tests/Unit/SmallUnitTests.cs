using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using Tcm.NotificationServer.AgentEndpoints;
using Tcm.NotificationServer.Agents;
using Tcm.NotificationServer.Certificates;
using Tcm.NotificationServer.Channel;

namespace Tcm.NotificationServer.Tests.Unit;

public sealed class AgentApiTests
{
    [Theory]
    [InlineData("\"abc\"", true)]
    [InlineData("abc", true)]
    [InlineData("W/\"abc\"", true)]
    [InlineData("\"x\", \"abc\"", true)]
    [InlineData("*", true)]
    [InlineData("\"abd\"", false)]
    public void EtagMatches_AcceptsQuotedWeakAndLists(string ifNoneMatch, bool expected) =>
        AgentApi.EtagMatches(ifNoneMatch, "abc").Should().Be(expected);
}

public sealed class NotificationServerOptionsValidatorTests
{
    [Fact]
    public void Defaults_AreValid() =>
        new NotificationServerOptionsValidator().Validate(null, new NotificationServerOptions()).Succeeded.Should().BeTrue();

    [Fact]
    public void BadValues_NameTheSetting()
    {
        var result = new NotificationServerOptionsValidator().Validate(null, new NotificationServerOptions
        {
            Port = 70000,
            ListenAddress = "not an address",
            AdminApiKey = "short",
            HelloTimeout = TimeSpan.Zero,
        });
        result.Failed.Should().BeTrue();
        result.Failures.Should().Contain(f => f.StartsWith("NotificationServer:Port", StringComparison.Ordinal))
            .And.Contain(f => f.StartsWith("NotificationServer:ListenAddress", StringComparison.Ordinal))
            .And.Contain(f => f.StartsWith("NotificationServer:AdminApiKey", StringComparison.Ordinal))
            .And.Contain(f => f.StartsWith("NotificationServer:HelloTimeout", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("Host=db.example;Database=tcm;Username=tcm")]
    [InlineData("Host=10.0.0.5;Port=5433;Database=tcm;Username=tcm;Password=secret;Maximum Pool Size=20")]
    public void PostgresConnectionString_IsAccepted(string store) =>
        new NotificationServerOptionsValidator().Validate(null, new NotificationServerOptions { Store = store }).Succeeded.Should().BeTrue();

    [Theory]
    [InlineData("not a connection string", "not a PostgreSQL connection string")]
    [InlineData("Database=tcm;Username=tcm", "names no Host")]
    [InlineData("Host=db;Port=eighty", "not a PostgreSQL connection string")]
    public void UnusableStore_IsRefusedWithWhy(string store, string why) =>
        new NotificationServerOptionsValidator().Validate(null, new NotificationServerOptions { Store = store }).Failures
            .Should().ContainSingle(f => f.StartsWith("NotificationServer:Store", StringComparison.Ordinal) && f.Contains(why, StringComparison.Ordinal));
}

public sealed class CertificateAuthorityTests : IDisposable
{
    private readonly TemporaryFolder _folder = new("ns-ca");

    [Fact]
    public void Ca_IsCreatedOnce_AndReloaded()
    {
        Directory.CreateDirectory(_folder.Path);
        using var first = CertificateAuthority.LoadOrCreate(_folder.Path, TimeProvider.System, NullLogger.Instance);
        using var second = CertificateAuthority.LoadOrCreate(_folder.Path, TimeProvider.System, NullLogger.Instance);
        second.CertificatePem.Should().Be(first.CertificatePem);
        var constraints = first.PublicCertificate.Extensions.OfType<X509BasicConstraintsExtension>().Single();
        constraints.CertificateAuthority.Should().BeTrue();
        first.PublicCertificate.GetECDsaPublicKey().Should().NotBeNull();
        (first.PublicCertificate.NotAfter - first.PublicCertificate.NotBefore).TotalDays.Should().BeGreaterThan(3650);
    }

    [Fact]
    public void SignedAgentCertificate_HasTheAgentIdAsSubject_AndValidates()
    {
        Directory.CreateDirectory(_folder.Path);
        using var authority = CertificateAuthority.LoadOrCreate(_folder.Path, TimeProvider.System, NullLogger.Instance);
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var csr = new CertificateRequest("CN=what-the-agent-asked", key, HashAlgorithmName.SHA256).CreateSigningRequestPem();
        var id = AgentIds.NewId();

        using var certificate = X509Certificate2.CreateFromPem(authority.SignAgentCertificate(csr, id));
        certificate.Subject.Should().Be($"CN={id}");
        certificate.Extensions.OfType<X509EnhancedKeyUsageExtension>().Single().EnhancedKeyUsages.Cast<System.Security.Cryptography.Oid>()
            .Should().ContainSingle(o => o.Value == "1.3.6.1.5.5.7.3.2");
        authority.Validate(certificate).AgentId.Should().Be(id);
        authority.Validate(certificate).AgentId.Should().Be(id, "the second check comes from the cache");
        authority.Validate(null).IsValid.Should().BeFalse();
    }

    [Fact]
    public void CertificateFromAnotherCa_IsRefused()
    {
        Directory.CreateDirectory(_folder.File("a"));
        Directory.CreateDirectory(_folder.File("b"));
        using var ours = CertificateAuthority.LoadOrCreate(_folder.File("a"), TimeProvider.System, NullLogger.Instance);
        using var theirs = CertificateAuthority.LoadOrCreate(_folder.File("b"), TimeProvider.System, NullLogger.Instance);
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var csr = new CertificateRequest("CN=x", key, HashAlgorithmName.SHA256).CreateSigningRequestPem();
        using var foreign = X509Certificate2.CreateFromPem(theirs.SignAgentCertificate(csr, AgentIds.NewId()));

        var check = ours.Validate(foreign);
        check.IsValid.Should().BeFalse();
        check.Reason.Should().Contain("CA");
    }

    public void Dispose() => _folder.Dispose();
}

/// <summary>The channel's receive loop relies on a zero-byte read waiting for data without consuming it.</summary>
public sealed class ZeroByteReadTests
{
    [Fact]
    public async Task ZeroByteReceive_WaitsForAFrame_ThenTheDataIsStillThere()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        using var client = new TcpClient();
        await client.ConnectAsync(IPAddress.Loopback, ((IPEndPoint)listener.LocalEndpoint).Port);
        using var accepted = await listener.AcceptTcpClientAsync();
        using var server = WebSocket.CreateFromStream(accepted.GetStream(), new WebSocketCreationOptions { IsServer = true });
        using var agent = WebSocket.CreateFromStream(client.GetStream(), new WebSocketCreationOptions { IsServer = false });

        var wait = server.ReceiveAsync(Memory<byte>.Empty, CancellationToken.None).AsTask();
        wait.IsCompleted.Should().BeFalse("nothing was sent yet");
        await agent.SendAsync("{\"kind\":\"ack\"}"u8.ToArray(), WebSocketMessageType.Text, true, CancellationToken.None);

        var first = await wait;
        first.Count.Should().Be(0);
        first.MessageType.Should().Be(WebSocketMessageType.Text);
        first.EndOfMessage.Should().BeFalse();
        var buffer = new byte[64];
        var rest = await server.ReceiveAsync(buffer.AsMemory(), CancellationToken.None);
        Encoding.UTF8.GetString(buffer, 0, rest.Count).Should().Be("{\"kind\":\"ack\"}");
        rest.EndOfMessage.Should().BeTrue();
    }
}
