@proxy
Feature: An agent behind a proxy
  A communication profile may send its agents through an HTTP proxy: "No proxy settings are specified for this communication
  profile", the computer's own proxy settings, or a proxy server at an address with an optional user name and password (the
  admin API never shows the password). Every connection of the agent then goes through the proxy as a tunnel: its HTTP
  requests, both persistent connections (to the Notification Server and to a Task Server), package downloads, directly or
  through the CEM gateway alike. The profile also says whether the agent may try the server directly when the proxy fails.
  The agent's Network Status says "via proxy host:port", and why the proxy failed when it did.

  Background:
    Given agents check for a new policy and poll for tasks every 2s
    And the lab has a proxy that asks for a user name and password

  Scenario: Both connections go through the proxy
    Given the Default communication profile sends agents through the proxy
    And an agent "PROXY-PC" in the office
    When "PROXY-PC" starts
    Then within 20s both of "PROXY-PC"'s connections go through the proxy

  Scenario: The proxy is down and the profile does not allow a direct attempt
    Given the Default communication profile sends agents through the proxy
    And an agent "STRICT-PC" in the office
    And "STRICT-PC" is started and both of its connections go through the proxy
    When the proxy stops
    Then within 15s "STRICT-PC" is offline because of the proxy
    And the Network Status of "STRICT-PC" shows "not reachable: connection refused"

  Scenario: The proxy is down and the profile allows a direct attempt
    Given the Default communication profile sends agents through the proxy and allows a direct attempt when it fails
    And an agent "LENIENT-PC" in the office
    And "LENIENT-PC" is started and both of its connections go through the proxy
    When the proxy stops
    Then within 15s "LENIENT-PC" is on the persistent connection directly, not through the proxy
    And within 15s "LENIENT-PC" is Direct
    And the Network Status of "LENIENT-PC" shows "not reachable: connection refused"

  Scenario: The proxy refuses the agent's credentials
    Given the Default communication profile sends agents through the proxy
    And an agent "CRED-PC" in the office
    And "CRED-PC" is started and both of its connections go through the proxy
    When the proxy restarts with a new password
    Then within 15s "CRED-PC" is offline because of the proxy
    And the Network Status of "CRED-PC" shows "refused the credentials"
