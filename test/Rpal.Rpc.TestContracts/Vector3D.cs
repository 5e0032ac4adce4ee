namespace Rpal.Rpc.TestContracts;

/// <summary>An unmanaged struct of 24 bytes.</summary>
public readonly record struct Vector3D(double X, double Y, double Z);
