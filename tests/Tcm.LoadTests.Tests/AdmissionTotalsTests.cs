namespace Tcm.LoadTests.Tests;

public sealed class AdmissionTotalsTests
{
    [Fact]
    public void Parse_ReadsTheAdmissionTotalsByStage_AndIgnoresEverythingElse()
    {
        const string metrics = """
            # TYPE tcm_admission_started_total counter
            tcm_admission_started_total{otel_scope_name="Tcm.Hosting.Admission",stage="tls"} 7308
            tcm_admission_started_total{otel_scope_name="Tcm.Hosting.Admission",stage="upgrade"} 4000
            tcm_admission_timed_out_total{otel_scope_name="Tcm.Hosting.Admission",stage="tls"} 12
            tcm_admission_queued{otel_scope_name="Tcm.Hosting.Admission",stage="tls"} 40
            tcm_ns_handshake_failures_total{otel_scope_name="Tcm.NotificationServer"} 3305
            """;

        var totals = AdmissionTotals.Parse(metrics);

        totals["tls", "started"].Should().Be(7308);
        totals["upgrade", "started"].Should().Be(4000);
        totals["tls", "timed_out"].Should().Be(12);
        totals["tls", "refused"].Should().Be(0, "a series not on the page counts as none");
        totals.Values.Should().HaveCount(3, "gauges and other meters' series are not admission totals");
    }
}
