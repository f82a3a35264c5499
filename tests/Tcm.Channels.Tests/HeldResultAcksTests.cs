using Tcm.Channels.Delivery;

namespace Tcm.Channels.Tests;

/// <summary>A channel's held acknowledgements of stored results: taken by a push, due after the delay, sent at once at the cap.</summary>
public sealed class HeldResultAcksTests
{
    [Fact]
    public void HeldKeys_AreTakenWhole_ByTheNextPush_InTheOrderStored_AndThenNothingIsHeld()
    {
        var held = new HeldResultAcks(2_000);

        held.Hold("a:1", 1_000).Should().BeNull();
        held.Hold("a:2", 1_500).Should().BeNull();

        held.Take().Should().Equal("a:1", "a:2");
        held.Take().Should().BeNull();
        held.TakeDue(10_000).Should().BeNull();
    }

    [Fact]
    public void HeldKeys_AreDue_OnceTheOldestWaitedTheDelay_NotBefore()
    {
        var held = new HeldResultAcks(2_000);
        held.Hold("a:1", 1_000);
        held.Hold("a:2", 2_900);

        held.TakeDue(2_999).Should().BeNull("the oldest has waited 1.999 s");
        held.TakeDue(3_000).Should().Equal("a:1", "a:2");
        held.TakeDue(9_000).Should().BeNull();
    }

    [Fact]
    public void TheDelay_CountsFromTheFirstKeyHeldAfterATake()
    {
        var held = new HeldResultAcks(2_000);
        held.Hold("a:1", 1_000);
        held.Take();

        held.Hold("a:2", 5_000);

        held.TakeDue(6_999).Should().BeNull();
        held.TakeDue(7_000).Should().Equal("a:2");
    }

    [Fact]
    public void TheCap_HandsBackEveryHeldKey_AtOnce()
    {
        var held = new HeldResultAcks(2_000);
        for (var i = 1; i < HeldResultAcks.MaxHeld; i++)
        {
            held.Hold($"a:{i}", i).Should().BeNull();
        }

        var all = held.Hold("a:last", 100);

        all.Should().HaveCount(HeldResultAcks.MaxHeld).And.EndWith("a:last");
        held.Take().Should().BeNull();
    }
}
