using System.Diagnostics;
using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Logging;
using Tcm.Testing;

namespace Tcm.Gateway.Tests;

/// <summary>
/// The gateway's agent connections and requests run on an empty execution context (<see cref="EmptyContext"/>), so the work an
/// idle agent causes does not switch to a connection's or request's context; real Kestrel and TLS on 127.0.0.1, with logging on
/// through a provider that keeps scopes, as <c>tcm gateway</c> logs.
/// </summary>
public sealed class EmptyContextTests
{
    private static readonly AsyncLocal<string?> Ambient = new();

    [Fact]
    public async Task ADetachedConnection_SeesNoAmbientValue_AcrossItsAwaits_AndTheCallersContextIsUntouched()
    {
        var empty = await EmptyContextAsync();
        Ambient.Value = "caller";
        var seen = new List<(string? Value, bool Empty)>();

        await EmptyContext.RunDetached(async _ =>
        {
            seen.Add((Ambient.Value, ReferenceEquals(ExecutionContext.Capture(), empty)));
            await Task.Yield();
            seen.Add((Ambient.Value, ReferenceEquals(ExecutionContext.Capture(), empty)));
        }, new DefaultConnectionContext());

        seen.Should().Equal((null, true), (null, true));
        Ambient.Value.Should().Be("caller");
    }

    [Theory]
    [InlineData("1.1", true)]
    [InlineData("2.0", true)]
    [InlineData("1.1", false)]
    [InlineData("2.0", false)]
    public async Task ARequest_RunsOnTheEmptyContext_WithTheGatewaysSettings_AndOnAConnectionAndRequestContextWithout(string version, bool gatewaySettings)
    {
        using var ca = TestCertificates.Ca();
        using var certificate = TestCertificates.Issue(ca, "CN=localhost", clientAuth: false, serverAuth: true);
        var empty = await EmptyContextAsync();
        var logs = new ScopeKeepingProvider();
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders().AddProvider(logs).SetMinimumLevel(LogLevel.Information);
        if (gatewaySettings)
        {
            EmptyContext.Use(builder.Logging, builder.Configuration);
        }

        builder.WebHost.ConfigureKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, 0, listen =>
        {
            listen.Protocols = HttpProtocols.Http1AndHttp2;
            if (gatewaySettings)
            {
                EmptyContext.Use(listen);
            }

            listen.UseHttps(certificate);
        }));
        await using var app = builder.Build();
        app.MapGet("/context", async () =>
        {
            var before = ReferenceEquals(ExecutionContext.Capture(), empty);
            await Task.Yield();
            return Results.Text($"empty={before && ReferenceEquals(ExecutionContext.Capture(), empty)} activity={Activity.Current is not null} scopes={logs.Scopes()}");
        });
        await app.StartAsync();
        using var client = new HttpClient(TestCertificates.CreateHandler(ca))
        {
            BaseAddress = new Uri(app.Urls.First()),
            DefaultRequestVersion = Version.Parse(version),
            DefaultVersionPolicy = HttpVersionPolicy.RequestVersionExact,
        };

        var answer = await client.GetStringAsync("/context");

        // Without them, over either version: Kestrel's connection scope (an HTTP/2 stream's request too), hosting's request scope and activity.
        answer.Should().Be(gatewaySettings ? "empty=True activity=False scopes=" : "empty=False activity=True scopes=ActivityLogScope,ConnectionLogScope,HostingLogScope");
        await app.StopAsync();
    }

    /// <summary>The context of work queued with no context to flow: what an empty execution context is.</summary>
    private static Task<ExecutionContext?> EmptyContextAsync()
    {
        var context = new TaskCompletionSource<ExecutionContext?>(TaskCreationOptions.RunContinuationsAsynchronously);
        ThreadPool.UnsafeQueueUserWorkItem(static state => state.SetResult(ExecutionContext.Capture()), context, preferLocal: false);
        return context.Task;
    }

    /// <summary>A log sink that is on at every level and keeps scopes, as the console does: Kestrel and hosting open theirs.</summary>
    private sealed class ScopeKeepingProvider : ILoggerProvider, ISupportExternalScope
    {
        private IExternalScopeProvider? _scopes;

        /// <summary>The types of the scopes open where this is called, outermost first.</summary>
        public string Scopes()
        {
            var names = new List<string>();
            _scopes?.ForEachScope(static (scope, list) => list.Add(scope?.GetType().Name ?? "null"), names);
            return string.Join(',', names);
        }

        public ILogger CreateLogger(string categoryName) => new Sink();

        public void SetScopeProvider(IExternalScopeProvider scopeProvider) => _scopes = scopeProvider;

        public void Dispose()
        {
        }

        private sealed class Sink : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state)
                where TState : notnull => null;

            public bool IsEnabled(LogLevel logLevel) => logLevel != LogLevel.None;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
            {
            }
        }
    }
}
