using System.Net;
using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Transport.Sockets;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Tcm.Hosting;
using Tcm.Hosting.Certificates;
using Tcm.Hosting.Options;
using Tcm.Testing;

namespace Tcm.Gateway.Tests.Hosting;

/// <summary>A server started through <c>AddTcmServer</c> on real Kestrel: the certificate registration obtains is the one served.</summary>
public sealed class TcmServerHostingTests : IDisposable
{
    private readonly TemporaryFolder _folder = new("hosting");
    private readonly X509Certificate2 _ca = TestCertificates.Ca();

    public void Dispose()
    {
        _ca.Dispose();
        _folder.Dispose();
    }

    [Theory]
    [InlineData("1.1")]
    [InlineData("2.0")]
    public async Task CertificateObtainedAtStart_IsServed_AndTheClientCertificateReachesTheApplication(string version)
    {
        using var serverCertificate = TestCertificates.Issue(_ca, "CN=server", clientAuth: false, serverAuth: true);
        using var clientCertificate = TestCertificates.Issue(_ca, "CN=agent");
        await using var app = Build(async ct =>
        {
            await Task.Yield();
            return new TestIdentity(serverCertificate);
        });
        app.MapGet("/who", (HttpContext context) => context.Connection.ClientCertificate?.Subject ?? "nobody");

        await app.StartAsync();
        using var handler = new SocketsHttpHandler();
        handler.SslOptions.RemoteCertificateValidationCallback = (_, certificate, _, errors) => CertificateTrust.ValidateServer(certificate, errors, _ca);
        handler.SslOptions.ClientCertificates = [clientCertificate];
        using var client = new HttpClient(handler) { DefaultRequestVersion = Version.Parse(version), DefaultVersionPolicy = HttpVersionPolicy.RequestVersionExact };
        using var response = await client.GetAsync(app.Services.GetRequiredService<ServerAddresses>().BaseUrl + "/who");

        response.Version.Should().Be(Version.Parse(version));
        (await response.Content.ReadAsStringAsync()).Should().Be("CN=agent");
        app.Services.GetRequiredService<IdentityUser>().Identity.Certificate.Should().BeSameAs(serverCertificate,
            "a hosted service added after registration is created once the identity exists");
        await app.StopAsync();
    }

    [Fact]
    public async Task ARegistrationThatFails_FailsTheStart_WithItsMessage()
    {
        await using var app = Build(_ => throw new InvalidOperationException("no registration token"));

        var start = () => app.StartAsync();

        await start.Should().ThrowAsync<InvalidOperationException>().WithMessage("no registration token");
    }

    [Fact]
    public async Task IdentityAsked_BeforeStart_IsRefusedWithWhatToDo()
    {
        await using var app = Build(_ => Task.FromResult(new TestIdentity(_ca)));

        var identity = () => app.Services.GetRequiredService<TestIdentity>();

        identity.Should().Throw<InvalidOperationException>().WithMessage("*app.StartAsync()*");
    }

    [Fact]
    public async Task InvalidOptions_FailTheStart_WithEveryFailure()
    {
        var start = async () =>
        {
            // why: Kestrel reads the options when it is configured, which may already be while the application is built.
            await using var app = Build(_ => Task.FromResult(new TestIdentity(_ca)), o => o.ListenAddress = "nowhere");
            await app.StartAsync();
        };

        (await start.Should().ThrowAsync<OptionsValidationException>()).Which.Failures.Should().ContainSingle()
            .Which.Should().StartWith("Test:ListenAddress 'nowhere'");
    }

    [Fact]
    public async Task TheListenBacklog_ReachesKestrelsSocketTransport()
    {
        await using var defaults = Build(_ => Task.FromResult(new TestIdentity(_ca)));
        await using var configured = Build(_ => Task.FromResult(new TestIdentity(_ca)), o => o.ListenBacklog = 1000);

        defaults.Services.GetRequiredService<IOptions<SocketTransportOptions>>().Value.Backlog.Should().Be(TcmServerOptions.DefaultListenBacklog);
        configured.Services.GetRequiredService<IOptions<SocketTransportOptions>>().Value.Backlog.Should().Be(1000);
    }

    private WebApplication Build(Func<CancellationToken, Task<TestIdentity>> register, Action<TestOptions>? configure = null)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.AddTcmServer<TestOptions, TestOptionsValidator>("Test", "Test Server", o =>
            {
                o.DataDirectory = _folder.Path;
                o.Port = 0;
                configure?.Invoke(o);
            })
            .AddSiteServerRegistration((_, _, ct) => register(ct), identity => identity.Certificate)
            .AddHostedServiceAfterRegistration<IdentityUser>();
        builder.Services.AddSingleton<IdentityUser>();
        return builder.Build();
    }

    public sealed class TestOptions() : TcmServerOptions("data/test", 0);

    private sealed class TestOptionsValidator() : TcmServerOptionsValidator<TestOptions>("Test", "the test's files")
    {
        protected override void Validate(TestOptions options, OptionsFailures failures)
        {
        }
    }

    private sealed record TestIdentity(X509Certificate2 Certificate);

    private sealed class IdentityUser(TestIdentity identity) : IHostedService
    {
        public TestIdentity Identity { get; } = identity;

        public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }
}
