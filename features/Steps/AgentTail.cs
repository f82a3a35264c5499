using System.Text.RegularExpressions;
using Tcm.Features.Drivers;
using Tcm.Lab.Fleet;

namespace Tcm.Features.Steps;

/// <summary>
/// The optional tail of "an agent ... in the office": <c> with no VPN client</c> or <c> with its "checkpoint" VPN up</c>,
/// <c> and valid CEM settings</c>, <c>, in group "sales"</c>, <c>, at site "London"</c>, each optional, in this order.
/// Reqnroll passes only the regex groups that took part in a match, so the step captures the whole tail as one argument
/// and <see cref="StepValues.Agent"/> reads it into an <see cref="AgentDefinition"/>.
/// </summary>
internal static partial class AgentTail
{
    /// <summary>The tail as a step expression fragment, without capture groups.</summary>
    public const string Pattern =
        @"(?: with (?:no VPN client|its ""[^""]+"" VPN (?:up|down)))?(?: and (?:valid|missing|invalid) CEM settings)?(?:, in group ""[^""]+"")?(?:, at site ""[^""]+"")?";

    /// <summary>
    /// Reads a tail that matched <see cref="Pattern"/> into an agent's definition; what it leaves out keeps the definition's
    /// defaults, and the step sets the name and location it captured itself.
    /// </summary>
    public static AgentDefinition Parse(string tail)
    {
        var match = Tail().Match(tail);
        if (!match.Success)
        {
            throw new FormatException($"'{tail}' is not a list of agent options such as ' with its \"checkpoint\" VPN up and valid CEM settings, in group \"sales\"'");
        }

        var defaults = new AgentDefinition { Name = "", VpnAdapter = "" };
        string Value(string group, string otherwise) => match.Groups[group].Success ? match.Groups[group].Value : otherwise;
        return defaults with
        {
            VpnAdapter = Value("adapter", ""),
            VpnUp = Value("vpn", "") == "up",
            Cem = StepValues.Member<CemValidity>(Value("cem", defaults.Cem.ToString())),
            Group = Value("group", defaults.Group),
            Site = Value("site", defaults.Site),
        };
    }

    [GeneratedRegex(@"^(?: with (?:no VPN client|its ""(?<adapter>[^""]+)"" VPN (?<vpn>up|down)))?(?: and (?<cem>valid|missing|invalid) CEM settings)?(?:, in group ""(?<group>[^""]+)"")?(?:, at site ""(?<site>[^""]+)"")?$", RegexOptions.CultureInvariant)]
    private static partial Regex Tail();
}
