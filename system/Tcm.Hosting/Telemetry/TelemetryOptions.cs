using Microsoft.Extensions.Options;
using OpenTelemetry.Exporter;

namespace Tcm.Hosting.Telemetry;

/// <summary>
/// Where a server's metrics go (section <c>Telemetry</c>, the same for every server): the Prometheus scrape endpoint
/// <c>/metrics</c> (behind the admin key) and, when an endpoint is configured, OTLP export.
/// </summary>
public sealed class TelemetryOptions
{
    /// <summary>The configuration section.</summary>
    public const string SectionName = "Telemetry";

    /// <summary>The standard OpenTelemetry variable of the OTLP endpoint, honoured when <see cref="OtlpEndpoint"/> is not set.</summary>
    public const string OtlpEndpointVariable = "OTEL_EXPORTER_OTLP_ENDPOINT";

    /// <summary>Whether <c>/metrics</c> (Prometheus text format, admin key required) is served. Default true.</summary>
    public bool PrometheusEnabled { get; set; } = true;

    /// <summary>
    /// OTLP collector endpoint, e.g. <c>http://collector:4317</c> (gRPC) or <c>http://collector:4318/v1/metrics</c>
    /// (HTTP/protobuf). Default null: the <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> variable when set, else no OTLP export.
    /// </summary>
    public Uri? OtlpEndpoint { get; set; }

    /// <summary>OTLP protocol: <c>Grpc</c> or <c>HttpProtobuf</c>. Default null: <c>OTEL_EXPORTER_OTLP_PROTOCOL</c>, else gRPC.</summary>
    public OtlpExportProtocol? OtlpProtocol { get; set; }

    /// <summary>How often metrics are pushed to the OTLP endpoint, 1 second to 1 hour. Default 15 seconds.</summary>
    public TimeSpan OtlpExportInterval { get; set; } = TimeSpan.FromSeconds(15);
}

/// <summary>Checks <see cref="TelemetryOptions"/> at start, naming the setting in each message.</summary>
internal sealed class TelemetryOptionsValidator : IValidateOptions<TelemetryOptions>
{
    public ValidateOptionsResult Validate(string? name, TelemetryOptions options)
    {
        var failures = new List<string>();
        if (options.OtlpEndpoint is { } endpoint && (!endpoint.IsAbsoluteUri || (endpoint.Scheme != Uri.UriSchemeHttp && endpoint.Scheme != Uri.UriSchemeHttps)))
        {
            failures.Add($"{TelemetryOptions.SectionName}:OtlpEndpoint '{endpoint}' is not an absolute http:// or https:// address of an OTLP collector.");
        }

        if (options.OtlpProtocol is { } protocol && !Enum.IsDefined(protocol))
        {
            failures.Add($"{TelemetryOptions.SectionName}:OtlpProtocol must be Grpc or HttpProtobuf.");
        }

        if (options.OtlpExportInterval < TimeSpan.FromSeconds(1) || options.OtlpExportInterval > TimeSpan.FromHours(1))
        {
            failures.Add($"{TelemetryOptions.SectionName}:OtlpExportInterval {options.OtlpExportInterval} is outside 00:00:01..01:00:00.");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
