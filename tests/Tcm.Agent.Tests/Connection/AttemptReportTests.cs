using System.Net.Sockets;
using System.Net.WebSockets;
using System.Security.Authentication;
using Tcm.Agent.Connection;
using Tcm.Agent.Routing;

namespace Tcm.Agent.Tests.Connection;

/// <summary>What answered a channel attempt, classified and worded (<see cref="AttemptReport"/>).</summary>
public sealed class AttemptReportTests
{
    private static readonly DateTimeOffset At = new(2026, 12, 6, 14, 0, 0, TimeSpan.Zero);
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);
    private static readonly AgentRoute Direct = new(ConnectionMode.Direct, new Uri("https://ns.corp:4443"), "Direct");
    private static readonly AgentRoute Cem = new(ConnectionMode.Cem, new Uri("https://gw.example:4726/relay/ns.corp:4443"), "CEM")
    {
        HostAndPort = "ns.corp:4443",
        Gateway = "gw.example:4726",
    };

    public static TheoryData<string, AttemptOutcome, string> SocketFailures() => new()
    {
        { nameof(SocketError.ConnectionRefused), AttemptOutcome.ConnectionRefused, "connection refused by gw.example:4726: nothing listens on that port" },
        { nameof(SocketError.NetworkUnreachable), AttemptOutcome.Unreachable, "no route to gw.example:4726 from this network" },
        { nameof(SocketError.HostNotFound), AttemptOutcome.NameNotResolved, "the name in gw.example:4726 does not resolve" },
        { nameof(SocketError.TimedOut), AttemptOutcome.Timeout, "no answer from gw.example:4726 (the TCP connect timed out)" },
    };

    [Theory]
    [MemberData(nameof(SocketFailures))]
    public void SocketFailure_ThroughTheGateway_NamesTheGatewayAndWhatAnswered(string error, AttemptOutcome outcome, string detail)
    {
        var failure = new WebSocketException("Unable to connect to the remote server",
            new HttpRequestException("Connection failed", new SocketException((int)Enum.Parse<SocketError>(error))));

        var attempt = AttemptReport.Failed(Cem, At, proxy: null, new AttemptAnswer(failure, false, 0, null, null, null, null), Timeout);

        attempt.Outcome.Should().Be(outcome);
        attempt.Detail.Should().Be(detail);
        attempt.Address.Should().Be("gw.example:4726", "the agent dialled the gateway");
        attempt.Target.Should().Be("ns.corp:4443", "and asked it for the Notification Server");
        attempt.Route.Should().Be(ConnectionMode.Cem);
        attempt.Proxy.Should().BeNull();
        attempt.At.Should().Be(At);
    }

    [Fact]
    public void OwnTimeout_IsATimeout_WithTheBound()
    {
        var attempt = AttemptReport.Failed(Direct, At, null, new AttemptAnswer(new OperationCanceledException(), true, 0, null, null, null, null), Timeout);

        attempt.Outcome.Should().Be(AttemptOutcome.Timeout);
        attempt.Detail.Should().StartWith("no answer from ns.corp:4443 within 30 s");
        attempt.Target.Should().BeNull();
    }

    [Fact]
    public void TlsFailure_NamesTheRejectedCertificateAndWhy()
    {
        var rejected = new CertificateInfo
        {
            Subject = "CN=intranet.corp",
            Issuer = "CN=Corp Web CA",
            Thumbprint = "AB12",
            NotBefore = At.AddYears(-1),
            NotAfter = At.AddYears(1),
            ValidationError = "it is not issued under the CA the agent trusts ('CN=TCM CA')",
        };
        var failure = new HttpRequestException("The SSL connection could not be established", new AuthenticationException("rejected by the callback"));

        var attempt = AttemptReport.Failed(Direct, At, null, new AttemptAnswer(failure, false, 0, null, null, null, rejected), Timeout);

        attempt.Outcome.Should().Be(AttemptOutcome.TlsFailure);
        attempt.Certificate.Should().BeSameAs(rejected);
        attempt.Detail.Should().Be("TLS with ns.corp:4443 failed: the server's certificate 'CN=intranet.corp' (issuer 'CN=Corp Web CA', thumbprint AB12) was rejected: it is not issued under the CA the agent trusts ('CN=TCM CA')");
    }

    [Theory]
    [InlineData(404)]
    [InlineData(200)]
    public void AnswerWithoutRefusalCode_IsNotATcmServer(int status)
    {
        var attempt = AttemptReport.Failed(Direct, At, null, new AttemptAnswer(new WebSocketException("bad status"), false, status, null, null, null, null), Timeout);

        attempt.Outcome.Should().Be(AttemptOutcome.NotTcm);
        attempt.HttpStatus.Should().Be(status);
        attempt.Detail.Should().Be($"HTTP {status} from ns.corp:4443, which is not a TCM server (no X-Tcm-Refusal in its answer)");
    }

    [Fact]
    public void BackendNotConfigured_CarriesTheGatewaysListOfBackends()
    {
        const string Detail = "no backend 'ns.corp:4443' is configured on gateway 'gw1'; configured: ns1.corp:4443, ts1.corp:4726";
        var answer = new AttemptAnswer(new WebSocketException("403"), false, 403, CloseReasons.BackendNotConfigured, Detail, null, null);

        var attempt = AttemptReport.Failed(Cem, At, null, answer, Timeout);

        attempt.Outcome.Should().Be(AttemptOutcome.BackendNotConfigured);
        attempt.RefusalCode.Should().Be(CloseReasons.BackendNotConfigured);
        attempt.Backends.Should().Equal("ns1.corp:4443", "ts1.corp:4726");
        attempt.Detail.Should().Be($"the gateway gw.example:4726 refused: backend-not-configured: {Detail}");
    }

    [Fact]
    public void ServerBusy_IsARefusal_WithItsRetryAfter()
    {
        var answer = new AttemptAnswer(new WebSocketException("503"), false, 503, CloseReasons.ServerBusy, null, TimeSpan.FromSeconds(20), null);

        var attempt = AttemptReport.Failed(Direct, At, null, answer, Timeout);

        attempt.Outcome.Should().Be(AttemptOutcome.Refused);
        attempt.RetryAfterSeconds.Should().Be(20);
        attempt.Detail.Should().Be("HTTP 503 server-busy: the server is busy taking other agents' channels; Retry-After 20 s");
    }

    [Fact]
    public void BackendUnavailable_SaysTheServerDoesNotAnswer_AndIsNoSignOfIt()
    {
        var answer = new AttemptAnswer(new WebSocketException("502"), false, 502, CloseReasons.BackendUnavailable, "gateway 'gw1' could not open a channel to backend 'ns'", null, null);

        var attempt = AttemptReport.Failed(Cem, At, null, answer, Timeout);

        attempt.Outcome.Should().Be(AttemptOutcome.BackendUnavailable);
        AttemptReport.GatewayAnsweredForMissingServer(answer.Refusal).Should().BeTrue();
        AttemptReport.GatewayAnsweredForMissingServer(CloseReasons.ServerBusy).Should().BeFalse();
    }

    [Fact]
    public void ClosedBeforeWelcome_WithACode_IsThatRefusal()
    {
        var opened = AttemptReport.Connected(Direct, At, null);

        var attempt = AttemptReport.ClosedBeforeWelcome(opened, "unknown-agent: no agent with this certificate");

        attempt.Outcome.Should().Be(AttemptOutcome.Refused);
        attempt.RefusalCode.Should().Be(CloseReasons.UnknownAgent);
        opened.Outcome.Should().Be(AttemptOutcome.Connected);
        opened.Detail.Should().BeNull();
    }
}
