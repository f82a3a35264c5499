using System.Text.RegularExpressions;
using Tcm.Lab.Fleet;

namespace Tcm.Features.Steps;

/// <summary>
/// The optional tail of "an agent ... in the office": <c> with no VPN client</c> or <c> with its "checkpoint" VPN up</c>,
/// <c> and valid CEM settings</c>, <c>, in group "sales"</c>, <c>, at site "London"</c>, each optional, in this order.
/// Reqnroll passes only the regex groups that took part in a match, so the step captures the whole tail as one argument
/// and <see cref="StepValues.Agent"/> reads it into this.
/// </summary>
internal sealed partial record AgentOptions(string VpnAdapter, bool VpnUp, CemValidity Cem, string Group, string Site)
{
    /// <summary>The tail as a step expression fragment, without capture groups.</summary>
    public const string Pattern =
        @"(?: with (?:no VPN client|its ""[^""]+"" VPN (?:up|down)))?(?: and (?:valid|missing|invalid) CEM settings)?(?:, in group ""[^""]+"")?(?:, at site ""[^""]+"")?";

    /// <summary>Reads a tail that matched <see cref="Pattern"/>; what it leaves out takes the features' defaults.</summary>
    public static AgentOptions Parse(string tail)
    {
        var match = Tail().Match(tail);
        if (!match.Success)
        {
            throw new FormatException($"'{tail}' is not a list of agent options such as ' with its \"checkpoint\" VPN up and valid CEM settings, in group \"sales\"'");
        }

        string Value(string group, string otherwise) => match.Groups[group].Success ? match.Groups[group].Value : otherwise;
        return new AgentOptions(
            VpnAdapter: Value("adapter", ""),
            VpnUp: Value("vpn", "") == "up",
            Cem: StepValues.Member<CemValidity>(Value("cem", nameof(CemValidity.Missing))),
            Group: Value("group", "features"),
            Site: Value("site", "London"));
    }

    [GeneratedRegex(@"^(?: with (?:no VPN client|its ""(?<adapter>[^""]+)"" VPN (?<vpn>up|down)))?(?: and (?<cem>valid|missing|invalid) CEM settings)?(?:, in group ""(?<group>[^""]+)"")?(?:, at site ""(?<site>[^""]+)"")?$", RegexOptions.CultureInvariant)]
    private static partial Regex Tail();
}
