@downloads
Feature: Package downloads and the VPN
  A package can be downloaded from several codebases (HTTPS, HTTP, a UNC share). While CEM is the preferred connection
  method, the agent picks an HTTPS codebase, reached through the gateway, over UNC and HTTP, so no package leaves over a
  VPN adapter (support article 226695, fix 2).

  Background:
    Given agents check for a new policy and poll for tasks every 2s
    And agents treat adapters matching "*Virtual Network Adapter*" as VPN adapters
    And the lab has a CEM gateway
    And a package "Office 365 patch" of 20MB is available from these codebases:
      | kind  | site      |
      | UNC   | London    |
      | HTTP  | London    |
      | HTTPS | internet  |

  Scenario: While CEM is preferred, the HTTPS codebase is chosen over UNC and HTTP
    Given "Prefer CEM" is on
    And an agent "DL-CEM-1" on the internet with its "checkpoint" VPN up and valid CEM settings
    And "DL-CEM-1" is started and both of its connections go through the gateway
    When "DL-CEM-1" downloads the package "Office 365 patch"
    Then "DL-CEM-1" downloaded the package "Office 365 patch" from its HTTPS codebase

  Scenario: With "Prefer CEM if VPN" and the VPN up, no package bytes go over the VPN adapter
    Given "Prefer CEM if VPN" is on
    And an agent "DL-VPN-1" on the internet with its "checkpoint" VPN up and valid CEM settings
    And "DL-VPN-1" is started and both of its connections go through the gateway
    When "DL-VPN-1" downloads the package "Office 365 patch"
    Then "DL-VPN-1" downloaded the package "Office 365 patch" from its HTTPS codebase
    And no package bytes went over the VPN adapter
