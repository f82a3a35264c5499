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
}
