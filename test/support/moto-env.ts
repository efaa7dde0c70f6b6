import { inject } from "vitest";

// Every SDK v3 client made in a test reaches moto through the standard endpoint variable.
process.env.AWS_ENDPOINT_URL = inject("motoEndpoint");
