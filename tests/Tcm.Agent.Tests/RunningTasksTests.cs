using Tcm.Agent.Tasks;

namespace Tcm.Agent.Tests;

public sealed class RunningTasksTests
{
    [Fact]
    public void Cancel_OfAStartedTask_CancelsIt_AndEndsWithIt()
    {
        var running = new RunningTasks();
        var registration = running.Start("t1");

        running.Cancel("t1").Should().BeTrue();

        registration.IsCancelled.Should().BeTrue();
        registration.Token.IsCancellationRequested.Should().BeTrue();
        registration.Dispose();
        running.Cancel("t1").Should().BeFalse("it ended");
    }

    [Fact]
    public void Cancel_BeforeTheTaskArrives_IsRemembered_SoTheTaskStartsCancelled()
    {
        var running = new RunningTasks();

        running.Cancel("t1").Should().BeFalse();
        using var registration = running.Start("t1");

        registration.IsCancelled.Should().BeTrue("the push waited behind others while its cancel went ahead");
        using var other = running.Start("t2");
        other.IsCancelled.Should().BeFalse();
    }

    [Fact]
    public void RememberedCancels_AreBounded_OldestForgottenFirst()
    {
        var running = new RunningTasks();
        for (var i = 0; i <= RunningTasks.RememberedCancels; i++)
        {
            running.Cancel($"t{i}");
        }

        using (var oldest = running.Start("t0"))
        {
            oldest.IsCancelled.Should().BeFalse();
        }

        using var newest = running.Start($"t{RunningTasks.RememberedCancels}");
        newest.IsCancelled.Should().BeTrue();
    }

    [Fact]
    public void AnAgentBetweenTasks_HoldsNoStorage_AndTasksOverlapping_AreEachKept()
    {
        var running = new RunningTasks();
        running.HoldsStorage.Should().BeFalse("an agent that never ran a task holds no map");

        var first = running.Start("t1");
        var second = running.Start("t2");
        first.Dispose();
        running.Cancel("t2").Should().BeTrue("the other task is still here");
        second.IsCancelled.Should().BeTrue();
        second.Dispose();

        running.HoldsStorage.Should().BeFalse("the last task ended and no cancel came early");
        running.Cancel("t1").Should().BeFalse();
        running.HoldsStorage.Should().BeTrue("a cancel for a task not here is remembered");
    }

    [Fact]
    public void TheAgentStopping_CancelsTheTask_ButIsNeitherTheServersCancelNorATimeOut()
    {
        var running = new RunningTasks();
        using var stop = new CancellationTokenSource();
        using var run = running.Start("t1");
        run.StopWith(stop.Token);

        stop.Cancel();

        run.Token.IsCancellationRequested.Should().BeTrue();
        run.IsCancelled.Should().BeFalse();
        run.IsTimedOut.Should().BeFalse();
    }

    [Fact]
    public void AnAgentAlreadyStopping_CancelsATaskAsItStarts()
    {
        var running = new RunningTasks();
        using var run = running.Start("t1");

        run.StopWith(new CancellationToken(canceled: true));

        run.Token.IsCancellationRequested.Should().BeTrue();
    }

    [Fact]
    public void TheTimeLimit_CancelsTheTask_AsATimeOut_AndTheServersCancelAfterIt_IsKeptToo()
    {
        var running = new RunningTasks();
        using var run = running.Start("t1");

        run.CancelOnLimit();

        run.Token.IsCancellationRequested.Should().BeTrue();
        run.IsTimedOut.Should().BeTrue();
        run.IsCancelled.Should().BeFalse();
        running.Cancel("t1").Should().BeTrue("the task is still here until it ends");
        run.IsCancelled.Should().BeTrue("a cancel outranks the time-out when the run tells what ended it");
    }

    [Fact]
    public void ATimeLimitFiringAfterTheTaskEnded_DoesNothing()
    {
        var running = new RunningTasks();
        var run = running.Start("t1");
        run.Dispose();

        run.Invoking(r => r.CancelOnLimit()).Should().NotThrow("a disposed timer's callback may still run once");
        running.Cancel("t1").Should().BeFalse();
    }

    [Fact]
    public void AStoppedRun_NoLongerListensToTheAgentsStop()
    {
        var running = new RunningTasks();
        using var stop = new CancellationTokenSource();
        var run = running.Start("t1");
        run.StopWith(stop.Token);
        run.Dispose();

        stop.Invoking(s => s.Cancel()).Should().NotThrow();
        running.HoldsStorage.Should().BeFalse();
    }

    [Fact]
    public void TasksStartingAndEndingInAnyOrder_AreEachCancelledByTheirOwnId()
    {
        var running = new RunningTasks();
        var first = running.Start("t1");
        var second = running.Start("t2");
        first.Dispose();
        var third = running.Start("t3");
        var fourth = running.Start("t4");

        running.Cancel("t3").Should().BeTrue();
        third.IsCancelled.Should().BeTrue();
        second.IsCancelled.Should().BeFalse();
        fourth.IsCancelled.Should().BeFalse();
        running.Cancel("t4").Should().BeTrue();
        fourth.IsCancelled.Should().BeTrue();
        second.IsCancelled.Should().BeFalse();

        foreach (var run in new[] { second, third, fourth })
        {
            run.Dispose();
        }

        running.HoldsStorage.Should().BeFalse("every task ended, and no cancel came early");
        running.Cancel("t1").Should().BeFalse("it ended");
        running.Cancel("t2").Should().BeFalse("it ended");
    }
}
