using FsCheck;
using FsCheck.Fluent;

namespace Tcm.Protocol.Tests;

public sealed class WildcardTests
{
    [Theory]
    [InlineData("Check Point Virtual Network Adapter For Endpoint VPN Client", "*Virtual Network Adapter*", true)]
    [InlineData("Check Point Virtual Network Adapter For Endpoint VPN Client", "check point*", true)]
    [InlineData("Intel(R) Dual Band Wireless-AC 8265", "*VPN*", false)]
    [InlineData("PANGP Virtual Ethernet Adapter", "PANGP?Virtual*", true)]
    [InlineData("abc", "a?c", true)]
    [InlineData("abc", "a?", false)]
    [InlineData("", "*", true)]
    [InlineData("", "", true)]
    [InlineData("x", "", false)]
    [InlineData("aaa", "a*a*a", true)]
    [InlineData("aa", "a*a*a", false)]
    public void IsMatch_MatchesWholeTextCaseInsensitively(string text, string pattern, bool expected)
    {
        Wildcard.IsMatch(text, pattern).Should().Be(expected);
    }

    [Fact]
    public void IsMatch_TextMatchesItselfAndStar()
    {
        Prop.ForAll(ArbMap.Default.ArbFor<NonNull<string>>(), s =>
        {
            var text = s.Get.Replace("*", "").Replace("?", "");
            return Wildcard.IsMatch(text, text) && Wildcard.IsMatch(text, "*") && Wildcard.IsMatch(text, text.ToUpperInvariant());
        }).QuickCheckThrowOnFailure();
    }

    [Fact]
    public void IsMatch_PrefixStarMatchesEveryExtension()
    {
        Prop.ForAll(ArbMap.Default.ArbFor<NonNull<string>>(), ArbMap.Default.ArbFor<NonNull<string>>(), (a, b) =>
        {
            var prefix = a.Get.Replace("*", "").Replace("?", "");
            return Wildcard.IsMatch(prefix + b.Get, prefix + "*");
        }).QuickCheckThrowOnFailure();
    }
}
