using Tcm.Channels.Delivery;

namespace Tcm.Channels.Tests;

public sealed class CoalescedDeliveryJournalTests
{
    [Fact]
    public void ProgressOfManyAgents_IsWrittenByOnePostedFlush()
    {
        var journal = new RecordingJournal();

        journal.Acknowledged("a", 0, 2, "persistent", 10);
        journal.Acknowledged("b", 0, 1, "http", 11);
        journal.Acknowledged("a", 2, 3, "persistent", 12);
        journal.Status("t1", "a", "running");
        journal.Status("t1", "a", "running again");

        journal.Posted.Should().ContainSingle("one flush is queued at a time");
        journal.RunPosted();
        journal.Written.Should().Equal("ack a (0,2] persistent", "ack a (2,3] persistent", "ack b (0,1] http", "status running again");

        journal.Acknowledged("a", 3, 4, "persistent", 13);
        journal.Posted.Should().ContainSingle("progress after a flush ran queues the next one");
    }

    [Fact]
    public void AResult_TakesItsAgentsAcknowledgements_AndDropsItsTargetsStatus()
    {
        var journal = new RecordingJournal();
        journal.Acknowledged("a", 0, 1, "persistent", 10);
        journal.Acknowledged("b", 0, 1, "persistent", 10);
        journal.Status("t1", "a", "running t1");
        journal.Status("t2", "a", "running t2");

        journal.TakeInto(journal.Written, "a", "t1");
        journal.Written.Should().Equal("ack a (0,1] persistent");

        journal.RunPosted();
        journal.Written.Should().Equal("ack a (0,1] persistent", "ack b (0,1] persistent", "status running t2");
    }

    [Fact]
    public void AFlushRunAgain_AsARetriedTransactionRunsIt_WritesWhatItTookTheFirstTime()
    {
        var journal = new RecordingJournal();
        journal.Acknowledged("a", 0, 1, "persistent", 10);
        journal.Status("t1", "b", "running t1");
        var flush = journal.Posted.Single();

        var firstRun = new List<string>();
        flush(firstRun);
        journal.Acknowledged("a", 1, 2, "persistent", 11);
        var secondRun = new List<string>();
        flush(secondRun);

        secondRun.Should().Equal(firstRun).And.Equal("ack a (0,1] persistent", "status running t1");
        journal.Posted.Should().HaveCount(2, "what came after the first run waits for a flush of its own");
        journal.Posted[1](journal.Written);
        journal.Written.Should().Equal("ack a (1,2] persistent");
    }

    [Fact]
    public void AResultsWriteRunAgain_TakesWhatItTookTheFirstTime_AndLeavesLaterAcknowledgementsPending()
    {
        var journal = new RecordingJournal();
        var once = new JournalTake();
        journal.Acknowledged("a", 0, 1, "persistent", 10, byResult: true);

        journal.TakeOnce("a", "t1", once).Should().Equal(new PendingAck(0, 1, "persistent", 10));
        journal.Acknowledged("a", 1, 2, "persistent", 11);
        journal.TakeOnce("a", "t1", once).Should().Equal(new PendingAck(0, 1, "persistent", 10));

        journal.RunPosted();
        journal.Written.Should().Equal("ack a (1,2] persistent");
    }

    /// <summary>A journal whose flushes wait in <see cref="Posted"/> until the test runs them, writing lines to <see cref="Written"/>.</summary>
    private sealed class RecordingJournal(List<Action<List<string>>> posted) : CoalescedDeliveryJournal<List<string>, string>((write, _) => posted.Add(write))
    {
        public RecordingJournal()
            : this([])
        {
        }

        public List<Action<List<string>>> Posted => posted;

        public List<string> Written { get; } = [];

        public void RunPosted()
        {
            var posted = Posted.ToList();
            Posted.Clear();
            posted.ForEach(write => write(Written));
        }

        protected override void WriteAcknowledged(List<string> context, string agentId, IReadOnlyList<PendingAck> acks) =>
            context.AddRange(acks.Select(a => $"ack {agentId} ({a.AfterSeq},{a.UpToSeq}] {a.Via}"));

        protected override void WriteStatus(List<string> context, string status) => context.Add($"status {status}");

        public IReadOnlyList<PendingAck>? TakeOnce(string agentId, string taskId, JournalTake once) => Take(agentId, taskId, once);
    }
}
