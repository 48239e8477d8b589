# origin: TriND41/Diffusion tools/training.py @ 4fe083e1f2b5b6f9af55a37bfa7468553bbcad56 (excerpt)
import torch
import torch.distributed as distributed
from torch.utils.data import DataLoader, RandomSampler, DistributedSampler


class Trainer:
    def train(self, dataset, batch_size: int, num_epochs: int = 1, fp16: bool = False) -> None:
        sampler = DistributedSampler(dataset) if distributed.is_initialized() else RandomSampler(dataset)
        dataloader = DataLoader(dataset=dataset, batch_size=batch_size, sampler=sampler)
        scaler = torch.GradScaler(enabled=fp16)
        for epoch in range(num_epochs):
            if distributed.is_initialized():
                dataloader.sampler.set_epoch(self.n_epochs)
            self.model.train()
            train_loss = 0.0
            for inputs in dataloader:
                with torch.no_grad():
                    noises = torch.randn(inputs.size(), dtype=torch.float, device=self.rank)
                outputs = self.model(inputs, noises)
                loss = self.criterion.mse_loss(outputs, noises)
                self.optimizer.zero_grad()
                scaler.scale(loss).backward()
                scaler.step(self.optimizer)
                scaler.update()
                train_loss += loss
            train_loss /= len(dataloader)
            if distributed.is_initialized():
                distributed.all_reduce(train_loss, op=distributed.ReduceOp.AVG)
