@routing
Feature: Connection choice: Direct or CEM
  The agent decides, for its Notification Server connection, whether to call the server directly (Direct) or through the
  CEM Internet Gateway (CEM), and applies the same choice to its Task Server connection. It never picks an adapter: the
  network's routing does. The rules, first match wins (design, "Network model"; support article 226695):
    1. "Prefer CEM" set and CEM settings present and valid: CEM.
    2. "Prefer CEM if VPN" set, a VPN adapter active, CEM settings valid: CEM.
    3. The Notification Server reachable directly: Direct.
    4. CEM settings valid: CEM.
    5. Otherwise: offline, retrying with back-off.
  The choice is made again when adapters change, when a policy with new settings arrives, and when a connection fails;
  VPN detection finishes before the first connection.

  Background:
    Given agents check for a new policy and poll for tasks every 2s
    And agents treat adapters matching "*Virtual Network Adapter*" as VPN adapters

  Scenario Outline: Rule <rule>: <situation>
    Given "Prefer CEM" is <prefer CEM>
    And "Prefer CEM if VPN" is <prefer CEM if VPN>
    And an agent "RULE-PC" <where> and <CEM settings> CEM settings
    When "RULE-PC" starts
    Then within 15s "RULE-PC" is <route>

    Examples: Rules that need nothing but the Notification Server
      | rule | situation                                              | prefer CEM | prefer CEM if VPN | where                                        | CEM settings | route                                |
      | 3    | in the office, no preference, no CEM settings          | off        | off               | in the office with no VPN client             | missing      | Direct                               |
      | 3    | at home on VPN, no preference, no CEM settings         | off        | off               | on the internet with its "checkpoint" VPN up | missing      | Direct                               |
      | 3    | on VPN, "Prefer CEM if VPN" but no CEM settings        | off        | on                | on the internet with its "checkpoint" VPN up | missing      | Direct                               |
      | 1    | "Prefer CEM" without CEM settings falls through to 3   | on         | off               | in the office with no VPN client             | missing      | Direct                               |
      | 5    | at home without VPN or CEM settings                    | off        | off               | on the internet with no VPN client           | missing      | offline and retrying with back-off   |

    Examples: Rules that need the CEM gateway
      | rule | situation                                              | prefer CEM | prefer CEM if VPN | where                                        | CEM settings | route                                |
      | 1    | "Prefer CEM" in the office                             | on         | off               | in the office with no VPN client             | valid        | connected through the gateway        |
      | 1    | "Prefer CEM" on VPN                                    | on         | off               | on the internet with its "checkpoint" VPN up | valid        | connected through the gateway        |
      | 1    | "Prefer CEM" with invalid CEM settings falls through   | on         | off               | in the office with no VPN client             | invalid      | Direct                               |
      | 2    | "Prefer CEM if VPN" with the VPN up                    | off        | on                | on the internet with its "checkpoint" VPN up | valid        | connected through the gateway        |
      | 2    | "Prefer CEM if VPN" with invalid CEM settings          | off        | on                | on the internet with its "checkpoint" VPN up | invalid      | Direct                               |
      | 3    | "Prefer CEM if VPN" in the office (no VPN active)      | off        | on                | in the office with its "checkpoint" VPN down | valid        | Direct                               |
      | 3    | on VPN without preferences, CEM settings valid         | off        | off               | on the internet with its "checkpoint" VPN up | valid        | Direct                               |
      | 4    | at home without VPN, CEM settings valid                | off        | off               | on the internet with no VPN client           | valid        | connected through the gateway        |
      | 5    | at home without VPN, CEM settings invalid              | off        | off               | on the internet with no VPN client           | invalid      | offline and retrying with back-off   |

  Scenario: Support article, step 1: VPN connected before the agent starts, so it starts in CEM mode
    The article's agent is installed and has its policy, so it knows "Prefer CEM if VPN" when its service starts. (A
    freshly installed agent registers before it has any policy, so that one call follows rule 3.)

    Given the lab has a CEM gateway
    And "Prefer CEM if VPN" is on
    And an agent "ARTICLE-1" on the internet with its "checkpoint" VPN down and valid CEM settings
    And "ARTICLE-1" has received its policy and was stopped
    And the VPN of "ARTICLE-1" comes up
    When "ARTICLE-1" starts
    Then within 15s both of "ARTICLE-1"'s connections go through the gateway
    And "ARTICLE-1" never connected to the servers directly
    And no management traffic went over the VPN adapter

  Scenario: Support article, step 2: the VPN is shut down, the agent stays in CEM mode
    Given the lab has a CEM gateway
    And "Prefer CEM if VPN" is on
    And an agent "ARTICLE-2" on the internet with its "checkpoint" VPN up and valid CEM settings
    And "ARTICLE-2" is started and both of its connections go through the gateway
    When the VPN of "ARTICLE-2" goes down
    Then within 10s both of "ARTICLE-2"'s connections go through the gateway

  Scenario: Support article, step 3: back on VPN, the agent stays in CEM mode and downloads nothing over the VPN
    Given the lab has a CEM gateway
    And "Prefer CEM if VPN" is on
    And a package "Office 365 patch" of 20MB is available from an HTTPS codebase and a UNC codebase
    And an agent "ARTICLE-3" on the internet with its "checkpoint" VPN down and valid CEM settings
    And "ARTICLE-3" is started and both of its connections go through the gateway
    When the VPN of "ARTICLE-3" comes up
    And "ARTICLE-3" downloads the package "Office 365 patch"
    Then within 10s both of "ARTICLE-3"'s connections go through the gateway
    And "ARTICLE-3" downloaded the package "Office 365 patch" from its HTTPS codebase
    And no package bytes went over the VPN adapter

  Scenario: Both connections follow the same route
    Given the lab has a CEM gateway
    And the lab has 1 Task Server
    And "Prefer CEM if VPN" is on
    And an agent "BOTH-1" on the internet with its "checkpoint" VPN up and valid CEM settings
    When "BOTH-1" starts
    Then within 15s both of "BOTH-1"'s connections go through the gateway
    When the VPN of "BOTH-1" goes down
    And "Prefer CEM if VPN" is changed to off
    Then within 10s both of "BOTH-1"'s connections go through the gateway

  Scenario Outline: VPN detection: <case>
    Given the lab has a CEM gateway
    And "Prefer CEM if VPN" is on
    And agents treat adapters matching "<pattern>" as VPN adapters
    And an agent "DETECT-1" on the internet with its "<adapter>" VPN up and valid CEM settings
    When "DETECT-1" starts
    Then within 15s "DETECT-1" is <route>

    Examples:
      | case                                   | pattern                                                     | adapter                                 | route                         |
      | exact description matches              | Check Point Virtual Network Adapter For Endpoint VPN Client | checkpoint                              | connected through the gateway |
      | description matches with a wildcard    | *Virtual Network Adapter*                                   | checkpoint                              | connected through the gateway |
      | adapter name matches                   | wg-corp                                                     | wireguard                               | connected through the gateway |
      | adapter name matches with a wildcard   | Ethernet ?                                                  | Ethernet 9 / Contoso Secure Tunnel      | connected through the gateway |
      | description matches in any case        | *pangp*                                                     | globalprotect                           | connected through the gateway |
      | nothing matches: not a VPN adapter     | *Cisco*                                                     | fortinet                                | Direct                        |

  Scenario: A VPN adapter that appears while the agent starts is detected before the first connection
    Given the lab has a CEM gateway
    And "Prefer CEM if VPN" is on
    And an agent "RACE-1" on the internet with its "checkpoint" VPN down and valid CEM settings
    When "RACE-1" starts and its VPN comes up while it is starting
    Then within 15s both of "RACE-1"'s connections go through the gateway
    And "RACE-1" never connected to the servers directly

  Scenario: Settings changed by policy while connected take effect at once
    Given the lab has a CEM gateway
    And "Prefer CEM if VPN" is off
    And an agent "POLICY-1" on the internet with its "checkpoint" VPN up and valid CEM settings
    And "POLICY-1" is on the persistent connection
    And within 10s "POLICY-1" is Direct
    When "Prefer CEM if VPN" is changed to on
    Then within 10s both of "POLICY-1"'s connections go through the gateway
    When "Prefer CEM if VPN" is changed to off
    Then within 10s "POLICY-1" is Direct

  Scenario Outline: "Prefer CEM" with <CEM settings> CEM settings keeps the agent Direct and says why
    Given the lab has a CEM gateway
    And "Prefer CEM" is on
    And an agent "PREFER-1" in the office with no VPN client and <CEM settings> CEM settings
    When "PREFER-1" starts
    Then within 15s "PREFER-1" is Direct
    And the Network Status of "PREFER-1" shows "<reason>"

    Examples:
      | CEM settings | reason                   |
      | missing      | no CEM settings          |
      | invalid      | CEM settings are invalid |
