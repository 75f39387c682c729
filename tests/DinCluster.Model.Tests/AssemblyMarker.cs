namespace DinCluster.Model.Tests;
internal static class AssemblyMarker { }
