using Tcm.LoadTests.Cli;
using Tcm.LoadTests.TcmVariant.Server;

namespace Tcm.LoadTests.Tests;

public sealed class TcmHostProcessTests
{
    [Fact]
    public void HostPath_WithoutOverride_IsTheTcmBuiltBesideTheLoadTests_WithItsRuntimeConfigAndDeps()
    {
        if (Environment.GetEnvironmentVariable(TcmHostProcess.HostPathVariable) is { Length: > 0 })
        {
            return;
        }

        var path = TcmHostProcess.HostPath();

        Path.GetDirectoryName(path).Should().Be(Path.TrimEndingDirectorySeparator(AppContext.BaseDirectory));
        File.Exists(path).Should().BeTrue("the load tests reference the host, so tcm.dll is copied into their output");
        File.Exists(Path.ChangeExtension(path, ".runtimeconfig.json")).Should().BeTrue("'dotnet tcm.dll' needs its runtimeconfig");
        File.Exists(Path.ChangeExtension(path, ".deps.json")).Should().BeTrue("'dotnet tcm.dll' needs its deps");
        TcmHostProcess.UnavailableReason().Should().BeNull();
    }

    [Theory]
    [InlineData("tcm")]
    [InlineData("Tcm.LoadTests")]
    public void ProcessesThatRunAgents_TurnOffHttp2RoundTripPings(string executable)
    {
        // why: the round-trip PING after every pong doubled an idle channel's bytes (docs/protocol.md, Keep-alive).
        var config = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, executable + ".runtimeconfig.json")))!;

        config["runtimeOptions"]!["configProperties"]!["System.Net.SocketsHttpHandler.Http2FlowControl.DisableDynamicWindowSizing"]!.GetValue<bool>()
            .Should().BeTrue();
    }

    [Fact]
    public async Task List_NamesTheGatewayBench()
    {
        using var output = new StringWriter();

        var exitCode = await LoadTestCli.RunAsync(["list"], output);

        exitCode.Should().Be(ExitCodes.Passed);
        output.ToString().Should().Contain("gateway-bench");
    }

    [Fact]
    public async Task GatewayBench_IsALoadTestCommand_WithItsOptions()
    {
        using var output = new StringWriter();

        var exitCode = await LoadTestCli.RunAsync(["gateway-bench", "--help"], output);

        exitCode.Should().Be(ExitCodes.Passed);
        output.ToString().Should().Contain("--agents").And.Contain("--client-processes").And.Contain("--mode").And.Contain("--idle-seconds");
    }
}
