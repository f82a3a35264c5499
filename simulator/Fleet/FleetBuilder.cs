using Bogus;
using Tcm.Protocol;
using Tcm.Simulator.Scenarios;

namespace Tcm.Simulator.Fleet;

/// <summary>
/// Builds the virtual agents of a scenario. Deterministic: the same scenario, seed and agent count give the same fleet, and
/// agent k's identity and inventory depend only on (seed, k), so it is the same whichever shard or order builds it.
/// Groups are interleaved (a seeded shuffle of the group counts) so every shard gets a fair mix of groups.
/// </summary>
internal static class FleetBuilder
{
    private static readonly string[] s_companies = ["contoso", "fabrikam", "northwind", "adventureworks", "tailspin", "woodgrove", "litware", "proseware"];

    private static readonly (string Code, string Name)[] s_sites =
        [("LON", "London"), ("NYC", "New York"), ("AUS", "Austin"), ("SIN", "Singapore"), ("FRA", "Frankfurt"), ("PUN", "Pune")];

    private static readonly (string Name, string Version, int Weight)[] s_os =
    [
        ("Windows 11 Enterprise", "10.0.22631", 40),
        ("Windows 11 Enterprise", "10.0.26100", 20),
        ("Windows 10 Enterprise", "10.0.19045", 35),
        ("Windows 10 Enterprise LTSC", "10.0.17763", 5),
    ];

    private static readonly (string Manufacturer, string Model, bool Laptop)[] s_models =
    [
        ("Dell Inc.", "Latitude 7440", true), ("Dell Inc.", "Latitude 5540", true), ("LENOVO", "ThinkPad T14 Gen 4", true),
        ("LENOVO", "ThinkPad X1 Carbon Gen 11", true), ("HP", "HP EliteBook 840 G10", true), ("Microsoft Corporation", "Surface Laptop 5", true),
        ("Dell Inc.", "OptiPlex 7010", false), ("HP", "HP EliteDesk 800 G9 Mini", false), ("LENOVO", "ThinkCentre M90q Gen 3", false),
    ];

    private static readonly InstalledSoftware[] s_catalogue =
    [
        new("Microsoft 365 Apps for enterprise - en-us", "16.0.17328.20162", "Microsoft Corporation"),
        new("Microsoft Edge", "124.0.2478.80", "Microsoft Corporation"),
        new("Microsoft Teams", "24102.2223.2870.9480", "Microsoft Corporation"),
        new("Microsoft OneDrive", "24.076.0414.0005", "Microsoft Corporation"),
        new("Google Chrome", "124.0.6367.119", "Google LLC"),
        new("Mozilla Firefox (x64 en-US)", "125.0.3", "Mozilla"),
        new("Adobe Acrobat Reader DC", "24.002.20736", "Adobe"),
        new("7-Zip 23.01 (x64)", "23.01", "Igor Pavlov"),
        new("Notepad++ (64-bit x64)", "8.6.5", "Notepad++ Team"),
        new("Zoom Workplace", "6.0.2.33403", "Zoom Video Communications, Inc."),
        new("Slack", "4.38.121", "Slack Technologies Inc."),
        new("Microsoft Visual C++ 2015-2022 Redistributable (x64)", "14.38.33135", "Microsoft Corporation"),
        new("Microsoft .NET Runtime - 8.0.4 (x64)", "8.0.4", "Microsoft Corporation"),
        new("Java 8 Update 411", "8.0.4110.9", "Oracle Corporation"),
        new("Cisco Webex Meetings", "44.4.0", "Cisco Webex LLC"),
        new("VLC media player", "3.0.20", "VideoLAN"),
        new("Git", "2.45.0", "The Git Development Community"),
        new("Python 3.12.3 (64-bit)", "3.12.3150.0", "Python Software Foundation"),
        new("Visual Studio Code", "1.89.1", "Microsoft Corporation"),
        new("PuTTY release 0.81 (64-bit)", "0.81.0.0", "Simon Tatham"),
        new("WinSCP 6.3.3", "6.3.3", "Martin Prikryl"),
        new("Snagit 2024", "24.1.0", "TechSmith Corporation"),
        new("Citrix Workspace 2403", "24.3.0.64", "Citrix Systems, Inc."),
        new("KeePass Password Safe 2.57", "2.57", "Dominik Reichl"),
    ];

    private static readonly InstalledSoftware s_agent = new("TCM Agent", "1.0.0", "TCM");
    private static readonly InstalledSoftware s_antivirus = new("Symantec Endpoint Protection", "14.3.10148.8000", "Broadcom");

    /// <summary>Builds the fleet of <paramref name="scenario"/>.</summary>
    /// <param name="scenario">The scenario (its groups and shares).</param>
    /// <param name="seed">The run's seed (the scenario's or <c>--seed</c>).</param>
    /// <param name="agents">Total agents (<c>--agents</c>); null: the scenario's <c>fleet.agents</c>.</param>
    /// <param name="shard">Build only this shard's agents; null: all.</param>
    public static FleetModel Build(Scenario scenario, int seed, int? agents = null, ShardSpec? shard = null)
    {
        ArgumentNullException.ThrowIfNull(scenario);
        var total = agents ?? scenario.Fleet.Agents;
        if (total < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(agents), total, "A fleet needs at least one agent.");
        }

        var groups = scenario.Fleet.Groups;
        var counts = ScaleCounts(scenario.Fleet, total);

        // Interleave groups: a seeded shuffle of [0,0,...,1,1,...], so shards and prefixes are representative.
        var groupOf = new byte[total];
        var position = 0;
        for (var g = 0; g < counts.Count; g++)
        {
            for (var i = 0; i < counts[g]; i++)
            {
                groupOf[position++] = (byte)g;
            }
        }

        var shuffle = new Random(unchecked((int)StableHash.Mix((ulong)(uint)seed, 0x5eed)));
        shuffle.Shuffle(groupOf);

        var fleetFaker = new Faker("en") { Random = new Randomizer(unchecked((int)StableHash.Mix((ulong)(uint)seed, 0xf1ee7))) };
        var company = fleetFaker.PickRandom(s_companies);
        var domain = $"{company}.local";
        var netbios = company.ToUpperInvariant()[..Math.Min(company.Length, 15)];

        var faker = new Faker("en");
        var built = new List<AgentSpec>(shard is { } s ? s.SizeOf(total) : total);
        for (var k = 0; k < total; k++)
        {
            if (shard is { } sh && !sh.Contains(k))
            {
                continue;
            }

            built.Add(BuildAgent(faker, seed, k, groups[groupOf[k]], domain, netbios));
        }

        return new FleetModel
        {
            Agents = built,
            TotalAgents = total,
            GroupCounts = groups.Select((g, i) => (g.Name, counts[i])).ToDictionary(x => x.Name, x => x.Item2, StringComparer.OrdinalIgnoreCase),
            Domain = domain,
            Seed = seed,
            Shard = shard,
        };
    }

    /// <summary>Group counts for <paramref name="total"/> agents; fixed counts scale with the fleet when no group has a share.</summary>
    public static IReadOnlyList<int> ScaleCounts(FleetSpec fleet, int total)
    {
        if (fleet.Groups.Any(g => g.Share is not null))
        {
            var counts = fleet.ResolveCounts(total).ToArray();
            var sum = counts.Sum();
            if (sum > total)
            {
                // --agents smaller than the fixed counts: scale the fixed counts down too.
                return Proportional(counts, total);
            }

            return counts;
        }

        return Proportional(fleet.Groups.Select(g => g.Count ?? 0).ToArray(), total);
    }

    private static int[] Proportional(int[] weights, int total)
    {
        var weightSum = weights.Sum();
        var counts = new int[weights.Length];
        if (weightSum == 0)
        {
            counts[0] = total;
            return counts;
        }

        var remainders = new List<(int Index, double Remainder)>();
        for (var i = 0; i < weights.Length; i++)
        {
            var exact = (double)total * weights[i] / weightSum;
            counts[i] = (int)Math.Floor(exact);
            remainders.Add((i, exact - counts[i]));
        }

        foreach (var (index, _) in remainders.OrderByDescending(r => r.Remainder).ThenBy(r => r.Index).Take(total - counts.Sum()))
        {
            counts[index]++;
        }

        return counts;
    }

    private static AgentSpec BuildAgent(Faker faker, int seed, int k, GroupSpec group, string domain, string netbios)
    {
        var agentSeed = StableHash.Mix((ulong)(uint)seed, (ulong)k + 1);
        faker.Random = new Randomizer(unchecked((int)agentSeed));
        var random = faker.Random;

        var (siteCode, siteName) = group.Site is { } groupSite
            ? (SiteCode(groupSite), groupSite)
            : s_sites[random.Int(0, s_sites.Length - 1)];

        var laptop = group.Location == AgentLocation.Internet || group.Vpn != VpnState.None || random.Bool(0.6f);
        var models = s_models.Where(m => m.Laptop == laptop).ToArray();
        var (manufacturer, model, _) = models[random.Int(0, models.Length - 1)];

        var (osName, osVersion) = PickOs(random, group.Os);
        var first = faker.Name.FirstName();
        var last = faker.Name.LastName();
        var user = Sanitize($"{first[0]}{last}").ToLowerInvariant();

        var software = new List<InstalledSoftware>(16) { s_agent, s_antivirus };
        var picks = random.Int(6, 14);
        foreach (var index in random.Shuffle(Enumerable.Range(0, s_catalogue.Length)).Take(picks).Order())
        {
            software.Add(s_catalogue[index]);
        }

        IReadOnlyList<VpnAdapterSpec> vpnAdapters = group.Vpn == VpnState.None ? [] : group.VpnAdapters.Count > 0 ? group.VpnAdapters : [VpnAdapterPresets.Default];
        foreach (var adapter in vpnAdapters)
        {
            software.Add(VpnClientSoftware(adapter));
        }

        return new AgentSpec
        {
            Index = k,
            ComputerName = $"{siteCode}-{(laptop ? "LT" : "WS")}-{k:D5}",
            Domain = domain,
            User = $"{netbios}\\{user}",
            OsName = osName,
            OsVersion = osVersion,
            Site = siteName,
            GroupName = group.Name,
            Task = group.Task,
            Location = group.Location,
            Vpn = group.Vpn,
            VpnAdapter = vpnAdapters.Count > 0 ? vpnAdapters[0] : null,
            VpnAdapters = vpnAdapters,
            Cem = group.Cem,
            Hardware = new HardwareInfo(
                manufacturer,
                model,
                random.Replace("??#####??").ToUpperInvariant(),
                random.ArrayElement([4, 8, 12, 16]),
                random.ArrayElement([8L, 16L, 32L]) << 30,
                random.ArrayElement([256L, 512L, 1024L]) * 1_000_000_000L),
            Software = software,
            Seed = agentSeed,
        };
    }

    private static (string Name, string Version) PickOs(Randomizer random, string? wanted)
    {
        var choices = wanted is null
            ? s_os
            : s_os.Where(o => o.Name.StartsWith(wanted, StringComparison.OrdinalIgnoreCase)).ToArray();
        if (choices.Length == 0)
        {
            return (wanted!, "10.0.0");
        }

        var roll = random.Int(1, choices.Sum(c => c.Weight));
        foreach (var (name, version, weight) in choices)
        {
            roll -= weight;
            if (roll <= 0)
            {
                return (name, version);
            }
        }

        return (choices[^1].Name, choices[^1].Version);
    }

    private static InstalledSoftware VpnClientSoftware(VpnAdapterSpec adapter) => adapter.Preset switch
    {
        "checkpoint" => new("Check Point Endpoint Security VPN", "E88.50", "Check Point Software Technologies Ltd."),
        "cisco-anyconnect" => new("Cisco AnyConnect Secure Mobility Client", "4.10.08025", "Cisco Systems, Inc."),
        "globalprotect" => new("GlobalProtect", "6.2.3", "Palo Alto Networks"),
        "fortinet" => new("FortiClient VPN", "7.2.4.0972", "Fortinet Technologies Inc"),
        "wireguard" => new("WireGuard", "0.5.3", "WireGuard LLC"),
        "openvpn" => new("OpenVPN 2.6.10-I001 amd64", "2.6.10", "OpenVPN, Inc."),
        _ => new($"{adapter.Description} client", "1.0", "Unknown"),
    };

    private static string SiteCode(string site)
    {
        var letters = new string(site.Where(char.IsLetterOrDigit).ToArray()).ToUpperInvariant();
        return letters.Length >= 3 ? letters[..3] : letters.PadRight(3, 'X');
    }

    private static string Sanitize(string text) => new(text.Where(char.IsAsciiLetterOrDigit).ToArray());
}
