using OpenTelemetry.Exporter;
using Tcm.Hosting.Telemetry;

namespace Tcm.Gateway.Tests.Hosting;

public sealed class TelemetryOptionsValidatorTests
{
    [Theory]
    [InlineData(null, 15)]
    [InlineData("http://collector:4317", 1)]
    [InlineData("https://collector.example:4318/v1/metrics", 3600)]
    public void GoodSettings_Pass(string? endpoint, int intervalSeconds)
    {
        var options = new TelemetryOptions { OtlpEndpoint = endpoint is null ? null : new Uri(endpoint), OtlpExportInterval = TimeSpan.FromSeconds(intervalSeconds) };

        new TelemetryOptionsValidator().Validate(null, options).Succeeded.Should().BeTrue();
    }

    [Theory]
    [InlineData("ftp://collector:4317", 15, "Telemetry:OtlpEndpoint 'ftp://collector:4317/' is not an absolute http:// or https:// address")]
    [InlineData("collector", 15, "Telemetry:OtlpEndpoint 'collector' is not an absolute")]
    [InlineData(null, 0, "Telemetry:OtlpExportInterval 00:00:00 is outside 00:00:01..01:00:00.")]
    [InlineData(null, 7200, "Telemetry:OtlpExportInterval 02:00:00 is outside")]
    public void BadSettings_FailWithTheSettingsName(string? endpoint, int intervalSeconds, string message)
    {
        var options = new TelemetryOptions
        {
            OtlpEndpoint = endpoint is null ? null : new Uri(endpoint, UriKind.RelativeOrAbsolute),
            OtlpExportInterval = TimeSpan.FromSeconds(intervalSeconds),
        };

        var result = new TelemetryOptionsValidator().Validate(null, options);

        result.Failed.Should().BeTrue();
        result.Failures.Should().ContainSingle().Which.Should().StartWith(message);
    }

    [Fact]
    public void AnUnknownProtocol_Fails()
    {
        var result = new TelemetryOptionsValidator().Validate(null, new TelemetryOptions { OtlpProtocol = (OtlpExportProtocol)42 });

        result.Failures.Should().ContainSingle().Which.Should().Be("Telemetry:OtlpProtocol must be Grpc or HttpProtobuf.");
    }
}
