@downloads @pending-capability @ignore
Feature: Package downloads from the nearest codebase
  Without preferences, an office agent downloads from the codebase nearest to it.

  Pending capability: codebases at sites. The product's Codebase has a kind and a location but no site, and the lab
  runs one package server, so codebases at London and Frankfurt, and "the nearest codebase", cannot be set up or checked.

  Background:
    Given agents check for a new policy and poll for tasks every 2s
    And agents treat adapters matching "*Virtual Network Adapter*" as VPN adapters
    And the lab has a CEM gateway
    And a package "Office 365 patch" of 20MB is available from these codebases:
      | kind  | site      |
      | UNC   | London    |
      | HTTP  | London    |
      | HTTPS | internet  |
      | UNC   | Frankfurt |

  Scenario: An office agent without preferences downloads from the nearest codebase
    Given an agent "DL-OFFICE-1" in the office with no VPN client and valid CEM settings, at site "London"
    And "DL-OFFICE-1" is on the persistent connection
    When "DL-OFFICE-1" downloads the package "Office 365 patch"
    Then "DL-OFFICE-1" downloaded the package "Office 365 patch" from its UNC codebase at site "London"
    And no package bytes went over the VPN adapter
