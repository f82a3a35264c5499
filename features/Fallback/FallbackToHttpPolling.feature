@fallback
Feature: Fallback to HTTP polling
  When the persistent connection may not or cannot be used, agents keep working over plain HTTP polling, and nothing an
  administrator sends them is lost: it reaches them at their next poll. As soon as they may use the persistent
  connection again, they return to it. (In these scenarios agents poll every 2 seconds, so "the next poll" is soon.)

  Background:
    Given agents check for a new policy and poll for tasks every 2s

  Scenario: With TCM communication off, agents poll over HTTP and still receive their tasks
    Given TCM communication is off
    And an agent "PC-OFF-1" in the office
    When "PC-OFF-1" starts
    Then within 10s "PC-OFF-1" works over HTTP polling because TCM communication is off
    When the administrator pushes the task "echo hello" to "PC-OFF-1"
    Then within 10s the task "echo hello" has succeeded on all its agents
    And the task "echo hello" reached "PC-OFF-1" by HTTP polling

  Scenario: Turning TCM communication on moves agents to the persistent connection at their next policy
    Given TCM communication is off
    And an agent "PC-ON-1" in the office
    And "PC-ON-1" is started and works over HTTP polling
    When the administrator turns TCM communication on
    Then within 10s "PC-ON-1" is on the persistent connection
    And the Network Status of "PC-ON-1" shows "Persistent"

  Scenario: Turning TCM communication off moves connected agents to HTTP polling at once
    Given an agent "PC-ON-2" in the office
    And "PC-ON-2" is on the persistent connection
    When the administrator turns TCM communication off
    Then within 5s "PC-ON-2" works over HTTP polling because TCM communication is off
    When the administrator pushes the task "echo still here" to "PC-ON-2"
    Then within 10s the task "echo still here" has succeeded on all its agents

  Scenario: An agent outside every profile's targets never opens the persistent connection
    Given the Default communication profile targets only the agents in group "pilot"
    And an agent "PILOT-1" in the office, in group "pilot"
    And an agent "OTHER-1" in the office, in group "sales"
    When all agents start
    Then within 10s "PILOT-1" is on the persistent connection
    And within 10s "OTHER-1" works over HTTP polling because no profile with persistent connections targets it
    When the administrator pushes the task "echo both" to "PILOT-1" and "OTHER-1"
    Then within 10s the task "echo both" has succeeded on all its agents
    And the task "echo both" reached "PILOT-1" over the persistent connection
    And the task "echo both" reached "OTHER-1" by HTTP polling

  Scenario: An agent taken out of the profile's targets is moved off the persistent connection, and comes back when targeted again
    Given an agent "PC-TGT-1" in the office, in group "sales"
    And "PC-TGT-1" is on the persistent connection
    When the administrator changes the Default communication profile to target only the agents in group "pilot"
    Then within 5s "PC-TGT-1" works over HTTP polling because no profile with persistent connections targets it
    When the administrator changes the Default communication profile to target every agent
    Then within 10s "PC-TGT-1" is on the persistent connection

  Scenario: A profile with persistent connection disabled keeps its agents on HTTP polling
    Given the communication profile "No TCM" with persistent connection disabled targets the agents in group "kiosk"
    And an agent "KIOSK-1" in the office, in group "kiosk"
    When "KIOSK-1" starts
    Then within 10s "KIOSK-1" works over HTTP polling because no profile with persistent connections targets it
    And "KIOSK-1" stays on HTTP polling for 3s

  Scenario: When the Notification Server goes away, agents fall back, then return to the persistent connection with back-off
    Given an agent "PC-SRV-1" in the office
    And "PC-SRV-1" is on the persistent connection
    When the Notification Server stops
    Then within 5s "PC-SRV-1" works over HTTP polling because the server cannot be reached
    And "PC-SRV-1" stays off the persistent connection for 3s
    When the Notification Server starts again
    Then within 15s "PC-SRV-1" is on the persistent connection
    And while the server was away "PC-SRV-1" retried with back-off

  Scenario: When the Notification Server dies without a goodbye, agents fall back and return the same way
    Given an agent "PC-SRV-2" in the office
    And "PC-SRV-2" is on the persistent connection
    When the Notification Server is killed
    Then within 5s "PC-SRV-2" works over HTTP polling because the server cannot be reached
    And "PC-SRV-2" stays off the persistent connection for 3s
    When the Notification Server starts again
    Then within 15s "PC-SRV-2" is on the persistent connection
    And while the server was away "PC-SRV-2" retried with back-off

  Scenario: When the CEM gateway goes away, agents on the internet fall back, then return through it with back-off
    Given the lab has a CEM gateway
    And an agent "HOME-GW-1" on the internet with no VPN client and valid CEM settings
    And "HOME-GW-1" is on the persistent connection
    When the CEM gateway stops
    Then within 5s "HOME-GW-1" works over HTTP polling because the server cannot be reached
    And "HOME-GW-1" stays off the persistent connection for 3s
    When the CEM gateway starts again
    Then within 15s "HOME-GW-1" is on the persistent connection
    And within 15s both of "HOME-GW-1"'s connections go through the gateway
    And while the server was away "HOME-GW-1" retried with back-off

  Scenario: The administrator terminates an agent's persistent connection
    Given an agent "PC-TERM-1" in the office
    And "PC-TERM-1" is on the persistent connection
    When the administrator terminates the persistent connection of "PC-TERM-1"
    Then within 5s "PC-TERM-1" works over HTTP polling because its persistent connection was terminated
    And "PC-TERM-1" stays on HTTP polling for 3s
    When the administrator pushes the task "echo after terminate" to "PC-TERM-1"
    Then within 10s the task "echo after terminate" has succeeded on all its agents
    And the task "echo after terminate" reached "PC-TERM-1" by HTTP polling

  Scenario: "Terminate persistent connection" in the agent's Network Status, then back after the chosen delay
    Given an agent "PC-TERM-2" in the office
    And "PC-TERM-2" is on the persistent connection
    When "Terminate persistent connection" is chosen in the Network Status of "PC-TERM-2", to reconnect after 3s
    Then within 5s "PC-TERM-2" works over HTTP polling because its persistent connection was terminated
    And "PC-TERM-2" stays on HTTP polling for 2s
    And within 10s "PC-TERM-2" is on the persistent connection
