using Xunit;

namespace Rpal.Rpc.Tests.Infrastructure;

/// <summary>The test classes that share <see cref="SharedServerFixture"/>.</summary>
[CollectionDefinition(Name)]
public sealed class SharedServerDefinition : ICollectionFixture<SharedServerFixture>
{
    public const string Name = "shared server";
}
