using System.Diagnostics.Metrics;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using OpenTelemetry;
using OpenTelemetry.Exporter;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using Tcm.Hosting.Admin;

namespace Tcm.Hosting.Telemetry;

/// <summary>
/// OpenTelemetry metrics for every TCM server, wired once: the servers' own meters (<c>Tcm.*</c>), ASP.NET Core and Kestrel
/// (requests, connections, TLS handshakes) and the .NET runtime; read by Prometheus from <c>/metrics</c> (admin key required)
/// and pushed over OTLP when an endpoint is configured.
/// </summary>
public static class TcmTelemetry
{
    /// <summary>The scrape path.</summary>
    public const string MetricsPath = "/metrics";

    /// <summary>Every TCM meter: <c>Tcm.NotificationServer</c>, <c>Tcm.TaskServer</c>, <c>Tcm.Gateway</c>, <c>Tcm.Hosting.Storage</c>.</summary>
    public const string MeterPattern = "Tcm.*";

    private const string KestrelMeter = "Microsoft.AspNetCore.Server.Kestrel";

    /// <summary>
    /// Adds the metrics pipeline, options from section <c>Telemetry</c> validated at start. OTLP export is added when
    /// <c>Telemetry:OtlpEndpoint</c> or <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> is configured.
    /// </summary>
    /// <param name="builder">The application builder.</param>
    /// <param name="serviceName">The <c>service.name</c> resource attribute, e.g. <c>tcm-ns</c>.</param>
    internal static void AddTcmTelemetry(this WebApplicationBuilder builder, string serviceName)
    {
        var services = builder.Services;
        services.AddOptions<TelemetryOptions>().Bind(builder.Configuration.GetSection(TelemetryOptions.SectionName)).ValidateOnStart();
        services.AddSingleton<IValidateOptions<TelemetryOptions>, TelemetryOptionsValidator>();

        // why: the exporter registers services of its own, so whether there is one is decided from configuration now; its
        // endpoint, protocol and interval come from the validated options when it is built.
        var otlp = !string.IsNullOrWhiteSpace(builder.Configuration[$"{TelemetryOptions.SectionName}:{nameof(TelemetryOptions.OtlpEndpoint)}"])
            || !string.IsNullOrWhiteSpace(builder.Configuration[TelemetryOptions.OtlpEndpointVariable]);
        services.AddOpenTelemetry()
            .ConfigureResource(resource => resource.AddService(serviceName))
            .WithMetrics(metrics =>
            {
                metrics.AddMeter(MeterPattern, KestrelMeter)
                    .AddAspNetCoreInstrumentation()
                    .AddRuntimeInstrumentation()
                    .AddPrometheusExporter();
                ((IDeferredMeterProviderBuilder)metrics).Configure(static (sp, builder) => builder.AddView(OwnMetersOnly(sp.GetRequiredService<IMeterFactory>())));
                if (otlp)
                {
                    metrics.AddOtlpExporter();
                }
            });
        if (otlp)
        {
            services.AddOptions<OtlpExporterOptions>().Configure<IOptions<TelemetryOptions>>(static (exporter, telemetry) =>
            {
                if (telemetry.Value.OtlpEndpoint is { } endpoint)
                {
                    exporter.Endpoint = endpoint;
                }

                if (telemetry.Value.OtlpProtocol is { } protocol)
                {
                    exporter.Protocol = protocol;
                }
            });
            services.AddOptions<MetricReaderOptions>().Configure<IOptions<TelemetryOptions>>(static (reader, telemetry) =>
                reader.PeriodicExportingMetricReaderOptions.ExportIntervalMilliseconds = (int)telemetry.Value.OtlpExportInterval.TotalMilliseconds);
        }
    }

    /// <summary>
    /// Drops instruments of meters another host's factory created: the lab and the tests run several servers in one process,
    /// and OpenTelemetry picks meters by name alone. Process-wide meters (the runtime's, the store's) have no factory and stay.
    /// </summary>
    private static Func<Instrument, MetricStreamConfiguration?> OwnMetersOnly(IMeterFactory factory) =>
        instrument => instrument.Meter.Scope is null || ReferenceEquals(instrument.Meter.Scope, factory) ? null : MetricStreamConfiguration.Drop;

    /// <summary>Maps <c>/metrics</c> (Prometheus text format) behind the server's admin keys (<see cref="IAdminKeyRing"/>, any role): 401 without one.</summary>
    internal static void MapTcmMetrics(this WebApplication app)
    {
        var key = app.Services.GetRequiredService<IAdminKeyRing>();
        app.MapPrometheusScrapingEndpoint(MetricsPath, meterProvider: null, configureBranchedPipeline: branch => branch.UseAdminKey(key), optionsName: null)
            .ExcludeFromDescription();
    }
}
