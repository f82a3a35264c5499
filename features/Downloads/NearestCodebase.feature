@downloads
Feature: Package downloads from the nearest codebase
  Without preferences, an office agent downloads from the codebase nearest to it: one at its own site first, then a
  public one that serves every site, and a codebase at another site only last.

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

  Scenario: An office agent at another site downloads from the codebase at its own site
    Given an agent "DL-OFFICE-2" in the office with no VPN client and valid CEM settings, at site "Frankfurt"
    And "DL-OFFICE-2" is on the persistent connection
    When "DL-OFFICE-2" downloads the package "Office 365 patch"
    Then "DL-OFFICE-2" downloaded the package "Office 365 patch" from its UNC codebase at site "Frankfurt"

  Scenario: An office agent at a site without a codebase prefers the public codebase to another site's
    Given an agent "DL-OFFICE-3" in the office with no VPN client and valid CEM settings, at site "Paris"
    And "DL-OFFICE-3" is on the persistent connection
    When "DL-OFFICE-3" downloads the package "Office 365 patch"
    Then "DL-OFFICE-3" downloaded the package "Office 365 patch" from its HTTPS codebase at site "internet"
