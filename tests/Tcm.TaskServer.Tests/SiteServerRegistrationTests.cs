using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography.X509Certificates;
using Tcm.TaskServer.Identity;

namespace Tcm.TaskServer.Tests;

/// <summary>A real NS: an admin allows a Task Server, the Task Server registers with its token and CSR, and gets ONE proper certificate.</summary>
public sealed class SiteServerRegistrationTests : IAsyncLifetime
{
    private readonly string _dir = TestFolders.NewPath("ts-func");
    private NotificationServerHost _ns = null!;

    public async Task InitializeAsync() => _ns = await NotificationServerHost.StartAsync();

    public async Task DisposeAsync()
    {
        await _ns.DisposeAsync();
        TestFolders.TryDelete(_dir);
    }

    private async Task<SiteServerCreated> CreateAsync(string name)
    {
        var response = await _ns.Admin.PostAsJsonAsync("/tcm/admin/site-servers", new CreateSiteServerRequest { Name = name, Kind = SiteServerKind.TaskServer }, ProtocolJsonContext.Default.CreateSiteServerRequest);
        response.StatusCode.Should().Be(HttpStatusCode.Created);
        return (await response.Content.ReadFromJsonAsync(ProtocolJsonContext.Default.SiteServerCreated))!;
    }

    private TaskServerOptions Options(string token) => new()
    {
        NotificationServerUrl = _ns.Info.BaseUrl,
        NotificationServerCaPem = _ns.Info.CaCertificatePem,
        RegistrationToken = token,
        PublicHostName = "ts1.corp.test",
        HostNames = ["10.1.2.3"],
        Port = 4726,
    };

    [Fact]
    public async Task Register_SignsOneCertificate_CnNameOuKind_ServerAndClientAuth_SansFromHostNames()
    {
        var created = await CreateAsync("ts1");

        using var identity = await TaskServerIdentity.LoadOrRegisterAsync(Options(created.RegistrationToken), Path.Combine(_dir, "ts1"), TimeProvider.System, NullLogger.Instance, CancellationToken.None);

        var certificate = identity.Certificate;
        certificate.HasPrivateKey.Should().BeTrue();
        certificate.Subject.Should().Contain("CN=ts1").And.Contain("OU=task-server");
        var ekus = certificate.Extensions.OfType<X509EnhancedKeyUsageExtension>().Single().EnhancedKeyUsages.Cast<System.Security.Cryptography.Oid>().Select(o => o.Value);
        ekus.Should().BeEquivalentTo(["1.3.6.1.5.5.7.3.1", "1.3.6.1.5.5.7.3.2"]);
        var san = certificate.Extensions.OfType<X509SubjectAlternativeNameExtension>().Single();
        san.EnumerateDnsNames().Should().Contain(["ts1.corp.test", "localhost"]);
        san.EnumerateIPAddresses().Should().Contain([IPAddress.Parse("10.1.2.3"), IPAddress.Loopback]);

        var listed = (await _ns.Admin.GetFromJsonAsync("/tcm/admin/site-servers", ProtocolJsonContext.Default.IReadOnlyListSiteServerInfo))!;
        listed.Single().Registered.Should().BeTrue();
        listed.Single().Address.Should().Be("ts1.corp.test:4726");
        (await _ns.Admin.GetStringAsync("/tcm/admin/site-servers")).Should().NotContain(created.RegistrationToken, "the token is shown once, at creation");
    }

    [Fact]
    public async Task Identity_IsKept_AndReusedWithoutAToken()
    {
        var created = await CreateAsync("ts2");
        var folder = Path.Combine(_dir, "ts2");
        string thumbprint;
        using (var first = await TaskServerIdentity.LoadOrRegisterAsync(Options(created.RegistrationToken), folder, TimeProvider.System, NullLogger.Instance, CancellationToken.None))
        {
            thumbprint = first.Certificate.Thumbprint;
        }

        using var again = await TaskServerIdentity.LoadOrRegisterAsync(Options(token: ""), folder, TimeProvider.System, NullLogger.Instance, CancellationToken.None);

        again.Certificate.Thumbprint.Should().Be(thumbprint);
    }

    [Fact]
    public async Task BadToken_IsRefused_WithAClearMessage()
    {
        var register = () => TaskServerIdentity.LoadOrRegisterAsync(Options("not-a-token"), Path.Combine(_dir, "bad"), TimeProvider.System, NullLogger.Instance, CancellationToken.None);

        (await register.Should().ThrowAsync<InvalidOperationException>()).Which.Message.Should().Contain("bad-registration-token");
    }

    [Fact]
    public async Task NoToken_OnFirstRun_SaysHowToGetOne()
    {
        var register = () => TaskServerIdentity.LoadOrRegisterAsync(Options(token: ""), Path.Combine(_dir, "none"), TimeProvider.System, NullLogger.Instance, CancellationToken.None);

        (await register.Should().ThrowAsync<InvalidOperationException>()).Which.Message.Should().Contain("/tcm/admin/site-servers");
    }

    [Fact]
    public async Task TaskServerEndpointsOfTheNs_RefuseAnyoneWithoutATaskServerCertificate()
    {
        var response = await _ns.Admin.GetAsync(TaskServerPaths.Work + "?wait=0");

        response.StatusCode.Should().Be(HttpStatusCode.Unauthorized);
        response.Headers.GetValues("X-Tcm-Refusal").Should().ContainSingle(CloseReasons.BadCertificate);
    }
}
