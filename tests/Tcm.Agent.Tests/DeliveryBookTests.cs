using Tcm.Agent.Tasks;

namespace Tcm.Agent.Tests;

public sealed class DeliveryBookTests
{
    [Fact]
    public void Record_NewSeq_IsNew_AndAdvancesTheCumulativeAck()
    {
        var book = new DeliveryBook();

        book.Record(ChannelRole.NotificationServer, TestData.Task(1, "t1")).Should().Be(PushDisposition.New);
        book.Record(ChannelRole.NotificationServer, TestData.Task(2, "t2")).Should().Be(PushDisposition.New);

        book.LastReceivedSeq(ChannelRole.NotificationServer).Should().Be(2);
        book.LastReceivedSeq(ChannelRole.TaskServer).Should().Be(0, "each role has its own sequence");
    }

    [Fact]
    public void Record_SeqAlreadyReceived_IsDuplicate_AndDoesNotMoveTheAck()
    {
        var book = new DeliveryBook();
        book.Record(ChannelRole.NotificationServer, TestData.Task(1, "t1"));
        book.Record(ChannelRole.NotificationServer, TestData.Task(2, "t2"));

        book.Record(ChannelRole.NotificationServer, TestData.Task(2, "t2")).Should().Be(PushDisposition.DuplicateSeq);
        book.Record(ChannelRole.NotificationServer, TestData.Task(1, "t1")).Should().Be(PushDisposition.DuplicateSeq);

        book.LastReceivedSeq(ChannelRole.NotificationServer).Should().Be(2);
    }

    [Fact]
    public void Record_SameTaskIdUnderNewSeq_IsNeverRunTwice()
    {
        var book = new DeliveryBook();
        book.Record(ChannelRole.NotificationServer, TestData.Task(1, "t1"));

        book.Record(ChannelRole.NotificationServer, TestData.Task(7, "t1")).Should().Be(PushDisposition.DuplicateTask);

        book.LastReceivedSeq(ChannelRole.NotificationServer).Should().Be(7, "the push is still acknowledged");
        book.HasTask("t1").Should().BeTrue();
    }

    [Fact]
    public void Record_InventoryRequests_AreDedupedByRequestId()
    {
        var book = new DeliveryBook();
        var request = new InventoryRequestMessage { Seq = 1, RequestId = "r1" };

        book.Record(ChannelRole.NotificationServer, request).Should().Be(PushDisposition.New);
        book.Record(ChannelRole.NotificationServer, request with { Seq = 2 }).Should().Be(PushDisposition.DuplicateTask);
    }

    [Fact]
    public void Record_PolicyPushes_HaveNoTaskId_AndAreNewPerSeq()
    {
        var book = new DeliveryBook();
        var push = new PolicyPushMessage { Seq = 1, Policy = TestData.Policy() };

        book.Record(ChannelRole.NotificationServer, push).Should().Be(PushDisposition.New);
        book.Record(ChannelRole.NotificationServer, push with { Seq = 2 }).Should().Be(PushDisposition.New);
    }

    [Fact]
    public void TaskIds_AreBounded_OldestForgottenFirst()
    {
        var book = new DeliveryBook(taskIdCapacity: 3);
        for (var i = 1; i <= 5; i++)
        {
            book.Record(ChannelRole.NotificationServer, TestData.Task(i, $"t{i}"));
        }

        book.HasTask("t1").Should().BeFalse();
        book.HasTask("t2").Should().BeFalse();
        book.HasTask("t5").Should().BeTrue();
        book.WriteTo(TestData.State()).CompletedTaskIds.Should().Equal("task:t3", "task:t4", "task:t5");
    }

    [Fact]
    public void TaskIdSnapshots_StayAsTheyWere_WhileLaterTasksPushOutTheOldest_AndEachHoldsTheLastOnesInOrder()
    {
        // The snapshots share the book's storage (no copy per push): many more tasks than the capacity, so the storage is replaced
        // several times, and every snapshot taken on the way must still read as it did when taken.
        const int capacity = 5;
        var book = new DeliveryBook(taskIdCapacity: capacity);
        var taken = new List<(int Last, IReadOnlyList<string> Ids)>();
        for (var i = 1; i <= 40; i++)
        {
            book.Record(ChannelRole.NotificationServer, TestData.Task(i, $"t{i}"));
            taken.Add((i, book.WriteTo(TestData.State()).CompletedTaskIds));
        }

        foreach (var (last, ids) in taken)
        {
            var first = Math.Max(1, last - capacity + 1);
            ids.Should().Equal(Enumerable.Range(first, last - first + 1).Select(i => $"task:t{i}"), "the snapshot after task {0}", last);
        }

        book.HasTask("t35").Should().BeFalse();
        book.HasTask("t36").Should().BeTrue();
        book.Record(ChannelRole.NotificationServer, TestData.Task(41, "t38")).Should().Be(PushDisposition.DuplicateTask);
    }

    [Fact]
    public async Task ATaskIdSnapshot_SavedAndLoaded_IsTheSameIds_AndTheRestoredBookNeverRunsThemAgain()
    {
        var folder = Directory.CreateTempSubdirectory("tcm-book-");
        try
        {
            var book = new DeliveryBook(taskIdCapacity: 3);
            for (var i = 1; i <= 7; i++)
            {
                book.Record(ChannelRole.NotificationServer, TestData.Task(i, $"t{i}"));
            }

            var store = new Tcm.Agent.State.FileAgentStateStore(folder.FullName);
            await store.SaveAsync(book.WriteTo(TestData.State()), CancellationToken.None);
            var loaded = await new Tcm.Agent.State.FileAgentStateStore(folder.FullName).LoadAsync(CancellationToken.None);

            loaded!.CompletedTaskIds.Should().Equal("task:t5", "task:t6", "task:t7");
            var restored = new DeliveryBook(loaded, taskIdCapacity: 3);
            restored.Record(ChannelRole.NotificationServer, TestData.Task(8, "t6")).Should().Be(PushDisposition.DuplicateTask);
            restored.Record(ChannelRole.NotificationServer, TestData.Task(9, "t4")).Should().Be(PushDisposition.New, "t4 was forgotten before the save");
        }
        finally
        {
            folder.Delete(recursive: true);
        }
    }

    [Fact]
    public void Results_AreKeptUntilAcknowledged_InOrder()
    {
        var book = new DeliveryBook();
        book.AddResult(TestData.Result("t1"));
        book.AddResult(TestData.Result("t2"));

        book.PendingResults().Select(DeliveryBook.GetIdempotencyKey).Should().Equal("a1:t1", "a1:t2");

        book.Acknowledge("a1:t1").Should().BeTrue();
        book.Acknowledge("a1:t1").Should().BeFalse("a second ack of the same key is harmless");
        book.PendingResults().Select(DeliveryBook.GetIdempotencyKey).Should().Equal("a1:t2");
        book.PendingResultCount.Should().Be(1);
    }

    [Fact]
    public void AddResult_SameKey_ReplacesInsteadOfDuplicating()
    {
        var book = new DeliveryBook();
        book.AddResult(TestData.Result("t1", TaskState.Failed));
        book.AddResult(TestData.Result("t1", TaskState.Succeeded));

        book.PendingResults().Should().ContainSingle().Which.As<TaskResultMessage>().State.Should().Be(TaskState.Succeeded);
    }

    [Fact]
    public void State_RoundTrip_KeepsSeqTaskIdsAndUnackedResults_SoTheyAreResentAfterRestart()
    {
        var book = new DeliveryBook();
        book.Record(ChannelRole.NotificationServer, TestData.Task(4, "t4"));
        book.Record(ChannelRole.TaskServer, TestData.Task(9, "ts9"));
        book.AddResult(TestData.Result("t4"));
        book.AddResult(new InventoryResultMessage { RequestId = "r1", IdempotencyKey = "a1:r1", Inventory = new BasicInventory { ComputerName = "pc" } });

        var restored = new DeliveryBook(book.WriteTo(TestData.State()));

        restored.LastReceivedSeq(ChannelRole.NotificationServer).Should().Be(4);
        restored.LastReceivedSeq(ChannelRole.TaskServer).Should().Be(9);
        restored.Record(ChannelRole.NotificationServer, TestData.Task(5, "t4")).Should().Be(PushDisposition.DuplicateTask);
        restored.PendingResults().Select(DeliveryBook.GetIdempotencyKey).Should().Equal("a1:t4", "a1:r1");
    }

    [Fact]
    public void Snapshots_TakenBetweenPushes_EachHoldWhatWasRecordedBeforeThem_AndOlderOnesStayAsTheyWere()
    {
        var book = new DeliveryBook();
        book.Record(ChannelRole.NotificationServer, TestData.Task(1, "t1"));
        var first = book.WriteTo(TestData.State());
        book.AddResult(TestData.Result("t1"));
        var second = book.WriteTo(TestData.State());

        book.Record(ChannelRole.NotificationServer, TestData.Task(2, "t2"));
        book.Record(ChannelRole.TaskServer, TestData.Task(3, "ts3"));
        var third = book.WriteTo(TestData.State());

        second.CompletedTaskIds.Should().Equal("task:t1");
        second.LastReceivedSeq[ChannelRole.NotificationServer].Should().Be(1);
        second.UnacknowledgedResults.Should().ContainSingle();
        third.CompletedTaskIds.Should().Equal("task:t1", "task:t2", "task:ts3");
        third.LastReceivedSeq[ChannelRole.NotificationServer].Should().Be(2);
        third.LastReceivedSeq[ChannelRole.TaskServer].Should().Be(3);
        first.CompletedTaskIds.Should().Equal("task:t1");
        first.LastReceivedSeq[ChannelRole.NotificationServer].Should().Be(1);
        first.UnacknowledgedResults.Should().BeEmpty();
    }

    [Fact]
    public void ASnapshotWithAPolicy_HoldsTheIdentityThePolicyAndTheBookkeeping_AndLeavesTheIdentityAsItWas()
    {
        var book = new DeliveryBook();
        book.Record(ChannelRole.NotificationServer, TestData.Task(4, "t4"));
        book.AddResult(TestData.Result("t4"));
        var identity = TestData.State() with { Policy = TestData.Policy(etag: "old") };
        var policy = TestData.Policy(etag: "new");

        var snapshot = book.WriteTo(identity, policy);
        var withoutPolicy = book.WriteTo(identity, null);

        snapshot.Policy.Should().BeSameAs(policy);
        snapshot.AgentId.Should().Be(identity.AgentId);
        snapshot.ClientCertificatePem.Should().Be(identity.ClientCertificatePem);
        snapshot.PrivateKeyPem.Should().Be(identity.PrivateKeyPem);
        snapshot.CaCertificatePem.Should().Be(identity.CaCertificatePem);
        snapshot.CompletedTaskIds.Should().Equal("task:t4");
        snapshot.LastReceivedSeq[ChannelRole.NotificationServer].Should().Be(4);
        snapshot.UnacknowledgedResults.Should().ContainSingle();
        withoutPolicy.Policy.Should().BeNull("an agent without a policy saves none, whatever the identity held");
        identity.Policy!.Etag.Should().Be("old");
        identity.CompletedTaskIds.Should().BeEmpty();
        book.WriteTo(identity).Policy.Should().BeSameAs(identity.Policy, "without a policy given, the state's own is kept");
    }

    [Fact]
    public void AddResult_NotAResult_Throws()
    {
        var act = () => new DeliveryBook().AddResult(new AckMessage { UpToSeq = 1 });

        act.Should().Throw<ArgumentException>();
    }
}
