// The features wait with the test kit's helper (deadline, cancellation, holds-for, a failure that names what was awaited
// and the last value seen); the alias keeps the drivers' and steps' calls as they were.
global using Eventually = Tcm.Testing.Eventually;
