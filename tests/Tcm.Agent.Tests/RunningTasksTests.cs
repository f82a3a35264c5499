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
}
